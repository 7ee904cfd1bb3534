using System.Text.Json;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Tests.Prober;
using KubeCaRotate.Nodes;
using KubeCaRotate.Tests.Nodes;

namespace KubeCaRotate.Lab.Tests.Nodes;

/// <summary>
/// The CLI over SSH: a lab (1 control plane + 1 worker) and a copy of its inventory whose nodes are reached through a
/// real sshd on loopback (access.ssh with root = the lab node's directory); `verify -o json` finds the same edges in the
/// same states, for the same reasons, as with the lab's own local inventory.
/// </summary>
public sealed class SshVerifyLabTests(SshServer server) : IClassFixture<SshServer>, IAsyncLifetime
{
    private readonly string _dir = TestLab.NewDir("kcr-ssh-");

    public async Task InitializeAsync() => await TestLab.UpAsync(new LabUpOptions(_dir, ControlPlanes: 1, Workers: 1, Namespaces: 2));

    public Task DisposeAsync() => TestLab.DownAndRemoveAsync(_dir);

    [Fact]
    public async Task VerifyOverSshMatchesVerifyOnTheLocalInventory()
    {
        var localInventory = Path.Combine(_dir, "inventory.yaml");
        var sshInventory = WriteSshCopy(localInventory);

        var local = await VerifyWhenWorkloadsRunAsync(localInventory);
        var overSsh = await VerifyAsync(sshInventory);

        Assert.Equal(0, local.ExitCode);
        Assert.Equal(local.ExitCode, overSsh.ExitCode);
        var localEdges = Edges(local.Report);
        Assert.NotEmpty(localEdges);
        var sshEdges = Edges(overSsh.Report);
        var differences = localEdges.Keys.Union(sshEdges.Keys)
            .Where(id => localEdges.GetValueOrDefault(id) != sshEdges.GetValueOrDefault(id))
            .Select(id => $"{id}: local '{localEdges.GetValueOrDefault(id)}', over SSH '{sshEdges.GetValueOrDefault(id)}'")
            .ToList();
        Assert.True(differences.Count == 0, "verify over SSH differs from verify on the local inventory:\n" + string.Join("\n", differences));
        Assert.Equal(Problems(local.Report), Problems(overSsh.Report));

        // The node files really came over SSH: sshd ran commands under each node's directory.
        var inventory = Inventory.Load(localInventory);
        foreach (var node in inventory.Nodes)
        {
            Assert.Contains(inventory.Resolve(node.Access.Local!.Root) + "/etc/kubernetes", server.CommandLog);
        }
    }

    private string WriteSshCopy(string localInventory)
    {
        var inventory = Inventory.Load(localInventory);
        if (inventory.Cluster.Kubeconfig is { } kubeconfig)
        {
            inventory.Cluster.Kubeconfig = inventory.Resolve(kubeconfig);
        }

        foreach (var node in inventory.Nodes)
        {
            var root = inventory.Resolve(node.Access.Local!.Root);
            node.Access = new NodeAccessSpec
            {
                Ssh = new SshAccessSpec
                {
                    Host = "127.0.0.1",
                    Port = server.Port,
                    User = Environment.UserName,
                    IdentityFile = server.ClientKeyFile,
                    KnownHostsFile = server.KnownHostsFile,
                    Root = root,
                },
            };
        }

        var copy = Path.Combine(server.Directory, "inventory-ssh.yaml");
        File.WriteAllText(copy, inventory.ToYaml());
        return copy;
    }

    /// <summary>
    /// `lab up` returns before the lab's controller-manager has started the workload pods (the aggregator and one app
    /// per namespace); the two runs would read different pods. Verify again until each of them has its pod edge.
    /// </summary>
    private static async Task<(int ExitCode, JsonElement Report)> VerifyWhenWorkloadsRunAsync(string inventory)
    {
        string[] workloads = ["kube-system/lab-aggregator-", "lab-1/app-", "lab-2/app-"];
        var deadline = DateTime.UtcNow + ProbeWatch.Patience;
        while (true)
        {
            var run = await VerifyAsync(inventory);
            var edges = Edges(run.Report).Keys;
            var missing = workloads.Where(w => !edges.Any(e => e.StartsWith(w, StringComparison.Ordinal))).ToList();
            if (missing.Count == 0)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"verify never found a pod edge for {string.Join(", ", missing)}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static async Task<(int ExitCode, JsonElement Report)> VerifyAsync(string inventory)
    {
        var exe = LabExecutable.Command();
        var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "verify", "--inventory", inventory, "-o", "json"]);
        Assert.True(run.ExitCode is 0 or 1 or 4, $"verify --inventory {inventory} failed ({run.ExitCode}): {run.Stderr}");
        return (run.ExitCode, JsonDocument.Parse(run.Stdout).RootElement);
    }

    private static Dictionary<string, string> Edges(JsonElement report) =>
        report.GetProperty("edges").EnumerateArray().ToDictionary(
            e => e.GetProperty("id").GetString()!,
            e => e.GetProperty("state").GetString() + ": " + string.Join(" | ", e.GetProperty("reasons").EnumerateArray().Select(r => r.GetString())));

    private static List<string> Problems(JsonElement report) =>
        report.TryGetProperty("problems", out var problems) ? problems.EnumerateArray().Select(p => p.ToString()).ToList() : [];
}
