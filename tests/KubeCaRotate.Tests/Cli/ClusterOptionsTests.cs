using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubeCaRotate.Cluster;
using KubeCaRotate.Nodes;
using KubeCaRotate.Tests.Cluster;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Cli;

/// <summary>How every cluster command names a cluster (--inventory, or --kubeconfig with SSH options), and `inventory`, which writes what the API's Node objects give.</summary>
public class ClusterOptionsTests
{
    private static (TempDir Dir, string Kubeconfig, string Inventory) Files()
    {
        var tmp = new TempDir();
        File.WriteAllText(tmp["admin.conf"], "apiVersion: v1\nkind: Config\n");
        File.WriteAllText(tmp["inventory.yaml"], "apiVersion: kube-ca-rotate/v1\nkind: Inventory\nnodes: []\n");
        return (tmp, tmp["admin.conf"], tmp["inventory.yaml"]);
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("start")]
    [InlineData("complete")]
    [InlineData("rollback")]
    [InlineData("status")]
    public void Rotation_commands_with_a_kubeconfig_and_no_ssh_user_say_they_need_node_access(string command)
    {
        var (tmp, kubeconfig, _) = Files();
        using (tmp)
        {
            var r = TestSupport.Cli.Run(command, "--kubeconfig", kubeconfig);

            Assert.True(r.ExitCode == 2, r.Output);
            Assert.Contains("This command reads and changes the nodes' files, so --kubeconfig needs node access: add --ssh-user USER", r.Output);
            Assert.Contains("or pass --inventory FILE.", r.Output);
        }
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("scan")]
    [InlineData("plan")]
    [InlineData("status")]
    public void Neither_an_inventory_nor_a_kubeconfig_names_both_ways(string command)
    {
        var r = TestSupport.Cli.Run(command);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Pass --inventory FILE, or --kubeconfig FILE with --ssh-user USER", r.Output);
    }

    [Theory]
    [InlineData("status --ssh-user ops", "--ssh-user applies to nodes found with --kubeconfig alone; with --inventory, set each node's access.ssh in the inventory instead.")]
    [InlineData("verify --ssh-port 2222 --sudo", "--ssh-port and --sudo apply to nodes found with --kubeconfig alone")]
    public void Ssh_options_with_an_inventory_are_refused(string options, string message)
    {
        var (tmp, _, inventory) = Files();
        using (tmp)
        {
            var r = TestSupport.Cli.Run([.. options.Split(' '), "--inventory", inventory]);

            Assert.True(r.ExitCode == 2, r.Output);
            Assert.Contains(message, r.Output);
        }
    }

    [Theory]
    [InlineData("verify --ssh-port 2222", "--ssh-port needs --ssh-user USER to reach the nodes over SSH.")]
    [InlineData("plan --ssh-user ops --ssh-port 70000", "--ssh-port 70000 is not a TCP port; pass a number from 1 to 65535.")]
    [InlineData("start --ssh-user ops --ssh-key /nonexistent-kcr/id", "The SSH key /nonexistent-kcr/id (--ssh-key) does not exist; pass the path of a private key.")]
    [InlineData("scan --ssh-user ops --known-hosts /nonexistent-kcr/known_hosts", "The known_hosts file /nonexistent-kcr/known_hosts (--known-hosts) does not exist")]
    [InlineData("inventory --ssh-port 0", "--ssh-port 0 is not a TCP port")]
    public void Bad_node_access_options_are_one_sentence_with_exit_code_2(string options, string message)
    {
        var (tmp, kubeconfig, _) = Files();
        using (tmp)
        {
            var r = TestSupport.Cli.Run([.. options.Split(' '), "--kubeconfig", kubeconfig]);

            Assert.True(r.ExitCode == 2, r.Output);
            Assert.Contains(message, r.Output);
        }
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("plan")]
    [InlineData("inventory")]
    public void A_missing_kubeconfig_is_named(string command)
    {
        var r = TestSupport.Cli.Run(command, "--kubeconfig", "/nonexistent-kcr/admin.conf", "--ssh-user", "ops");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("The kubeconfig /nonexistent-kcr/admin.conf does not exist; pass the path of an admin kubeconfig.", r.Output);
    }

    [Fact]
    public void Inventory_needs_a_kubeconfig()
    {
        var r = TestSupport.Cli.Run("inventory", "--ssh-user", "ops");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Pass --kubeconfig FILE: the nodes are listed from the API with it.", r.Output);
    }

    [Fact]
    public async Task Inventory_writes_the_discovered_nodes_and_never_overwrites_a_file_without_force()
    {
        using var tmp = new TempDir();
        await using var server = await NodesServerAsync(
            InventoryDiscoveryTests.Node("cp-1", new Dictionary<string, string> { [NodeObject.ControlPlaneLabel] = "" }, ("InternalIP", "10.0.0.1")),
            InventoryDiscoveryTests.Node("w-1", null, ("ExternalIP", "203.0.113.2")),
            InventoryDiscoveryTests.Node("w-lost", null));
        File.WriteAllBytes(tmp["admin.conf"], server.Kubeconfig());
        File.WriteAllText(tmp["id_ops"], "not read: the inventory command connects to no node\n");
        string[] args = ["inventory", "--kubeconfig", tmp["admin.conf"], "--ssh-user", "ops", "--ssh-key", tmp["id_ops"], "--ssh-port", "2200", "--sudo"];

        var printed = TestSupport.Cli.Run(args);
        var written = TestSupport.Cli.Run([.. args, "-o", tmp["inventory.yaml"]]);

        Assert.True(printed.ExitCode == 0, printed.Output);
        Assert.Contains("# Node w-lost reports no address in the API: set its access.ssh.host.", printed.Output);
        Assert.True(written.ExitCode == 0, written.Output);
        Assert.Contains($"Wrote {tmp["inventory.yaml"]}: 1 control-plane and 2 worker nodes.", written.Output);
        Assert.Contains("warning: Node w-lost reports no address in the API", written.Output);
        var inventory = Inventory.Load(tmp["inventory.yaml"]);
        Assert.Equal(["cp-1", "w-1", "w-lost"], inventory.Nodes.Select(n => n.Name));
        Assert.Equal(["cp-1"], inventory.ControlPlanes.Select(n => n.Name));
        Assert.Equal(["10.0.0.1", "203.0.113.2", ""], inventory.Nodes.Select(n => n.Access.Ssh!.Host));
        Assert.All(inventory.Nodes, n => Assert.Equal((2200, "ops", tmp["id_ops"], true), (n.Access.Ssh!.Port, n.Access.Ssh.User, n.Access.Ssh.IdentityFile, n.Access.Ssh.Sudo)));
        Assert.Equal(tmp["admin.conf"], inventory.Cluster.Kubeconfig);
        // The printed inventory is the written one.
        Assert.Equal(File.ReadAllText(tmp["inventory.yaml"]).TrimEnd('\n'), printed.Output.TrimEnd('\n'));

        File.WriteAllText(tmp["inventory.yaml"], "mine\n");
        var again = TestSupport.Cli.Run([.. args, "-o", tmp["inventory.yaml"]]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains($"{tmp["inventory.yaml"]} already exists; pass --force to overwrite it, or choose another file.", again.Output);
        Assert.Equal("mine\n", File.ReadAllText(tmp["inventory.yaml"]));

        var forced = TestSupport.Cli.Run([.. args, "-o", tmp["inventory.yaml"], "--force"]);
        Assert.True(forced.ExitCode == 0, forced.Output);
        Assert.Equal(3, Inventory.Load(tmp["inventory.yaml"]).Nodes.Count);
    }

    [Fact]
    public async Task A_rotation_command_on_discovered_nodes_refuses_a_node_without_an_address_by_name()
    {
        using var tmp = new TempDir();
        await using var server = await NodesServerAsync(
            InventoryDiscoveryTests.Node("cp-1", new Dictionary<string, string> { [NodeObject.ControlPlaneLabel] = "" }),
            InventoryDiscoveryTests.Node("w-1", null, ("InternalIP", "10.0.0.2")));
        File.WriteAllBytes(tmp["admin.conf"], server.Kubeconfig());

        var r = TestSupport.Cli.Run("status", "--kubeconfig", tmp["admin.conf"], "--ssh-user", "ops");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Node cp-1 reports no address in the API", r.Output);
        Assert.Contains("`kube-ca-rotate inventory`", r.Output);
    }

    private static Task<ScriptedApiServer> NodesServerAsync(params V1Node[] nodes) =>
        ScriptedApiServer.StartAsync((http, r) => r.Path == "/api/v1/nodes"
            ? ScriptedApiServer.WriteJsonAsync(http, JsonNode.Parse(KubernetesJson.Serialize(new V1NodeList { ApiVersion = "v1", Kind = "NodeList", Metadata = new V1ListMeta(), Items = nodes }))!)
            : ScriptedApiServer.WriteStatusAsync(http, 404, "NotFound", $"{r.Path} not found"));
}
