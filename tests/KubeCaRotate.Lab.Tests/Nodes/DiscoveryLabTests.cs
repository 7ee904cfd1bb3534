using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Tests.Rotation;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Lab.Tests.Nodes;

/// <summary>
/// Node discovery on a lab (1 control plane + 1 worker), with the real executable: `inventory --kubeconfig` finds the
/// nodes the lab's own inventory lists, with the same roles and addresses; a rotation command on discovered nodes that
/// SSH cannot reach stops naming the node and the address, and writes nothing.
/// </summary>
public sealed class DiscoveryLabTests : IAsyncLifetime
{
    private readonly string _dir = TestLab.NewDir("kcr-discover-");

    public async Task InitializeAsync() => await TestLab.UpAsync(new LabUpOptions(_dir, ControlPlanes: 1, Workers: 1, Namespaces: 1));

    public Task DisposeAsync() => TestLab.DownAndRemoveAsync(_dir);

    private string AdminConf => Path.Combine(_dir, "admin.conf");

    [Fact]
    public async Task Discovery_finds_the_nodes_of_the_lab_inventory_and_an_unreachable_node_stops_plan_by_name()
    {
        var lab = Inventory.Load(Path.Combine(_dir, "inventory.yaml"));

        var listed = await RunAsync("inventory", "--kubeconfig", AdminConf, "--ssh-user", "x");
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        var discovered = Inventory.Parse(listed.Stdout, "the output of kube-ca-rotate inventory", _dir);
        Assert.Equal(Describe(lab), Describe(discovered));
        Assert.All(discovered.Nodes, n => Assert.Equal((n.Address, 22, "x"), (n.Access.Ssh!.Host, n.Access.Ssh.Port, n.Access.Ssh.User)));
        Assert.Equal(AdminConf, discovered.Cluster.Kubeconfig);

        // A port nobody listens on: every node refuses the SSH connection.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var key = Path.Combine(_dir, "id_test");
        var keygen = await ProcessRun.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
        Assert.True(keygen.ExitCode == 0, keygen.Stderr);
        var knownHosts = Path.Combine(_dir, "known_hosts");
        await File.WriteAllTextAsync(knownHosts, "");
        var before = RotationLabFixture.NodeFileHashes(Path.Combine(_dir, "nodes"), withRotationState: true);
        var entriesBefore = Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal).ToList();

        var plan = await RunAsync("plan", "--kubeconfig", AdminConf, "--ssh-user", "x", "--ssh-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--ssh-key", key, "--known-hosts", knownHosts);

        Assert.NotEqual(0, plan.ExitCode);
        var message = Regex.Replace(plan.Stderr, @"\s+", " ");
        Assert.True(lab.Nodes.Any(n => message.Contains($"Node {n.Name} ({n.Address}:{port}) is unreachable", StringComparison.Ordinal)),
            $"plan's error names no lab node and its address with port {port}: {message}");
        Assert.Equal(before, RotationLabFixture.NodeFileHashes(Path.Combine(_dir, "nodes"), withRotationState: true));
        Assert.Equal(entriesBefore, Directory.GetFileSystemEntries(_dir).Order(StringComparer.Ordinal).ToList());
    }

    private static List<string> Describe(Inventory inventory) =>
        inventory.Nodes.Select(n => $"{n.Name} {string.Join(",", n.Roles)} {n.Address}").Order(StringComparer.Ordinal).ToList();

    private static Task<ProcessRun> RunAsync(params string[] args)
    {
        var exe = LabExecutable.Command();
        return ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), .. args]);
    }
}
