using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubeCaRotate.Cluster;
using KubeCaRotate.Nodes;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Cluster;

/// <summary>The inventory Node objects give: roles from the labels, the address InternalIP, then ExternalIP, then Hostname; each node reached over SSH at its address.</summary>
public class InventoryDiscoveryTests
{
    private static readonly SshAccessSpec Access = new() { Port = 2222, User = "ops", IdentityFile = "/keys/ops", KnownHostsFile = "/keys/known_hosts", Sudo = true };

    public static V1Node Node(string name, IDictionary<string, string>? labels = null, params (string Type, string Address)[] addresses) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Status = new V1NodeStatus { Addresses = addresses.Select(a => new V1NodeAddress { Type = a.Type, Address = a.Address }).ToList() },
    };

    private static Dictionary<string, string> Labels(params string[] keys) => keys.ToDictionary(k => k, _ => "");

    [Fact]
    public void Control_planes_are_the_nodes_labelled_control_plane_or_master_and_the_rest_are_workers()
    {
        var discovered = InventoryDiscovery.FromNodes(
        [
            Node("cp-a", Labels(NodeObject.ControlPlaneLabel, "kubernetes.io/os"), ("InternalIP", "10.0.0.1")),
            Node("cp-old", Labels(NodeObject.LegacyMasterLabel), ("InternalIP", "10.0.0.2")),
            Node("w-1", Labels("kubernetes.io/os", "node-role.kubernetes.io/worker"), ("InternalIP", "10.0.0.3")),
            Node("w-2", null, ("InternalIP", "10.0.0.4")),
        ], "/srv/admin.conf", null, Access);

        Assert.Equal(["cp-a", "cp-old", "w-1", "w-2"], discovered.Inventory.Nodes.Select(n => n.Name));
        Assert.Equal([["control-plane"], ["control-plane"], ["worker"], ["worker"]], discovered.Inventory.Nodes.Select(n => n.Roles));
        Assert.Equal(["cp-a", "cp-old"], discovered.Inventory.ControlPlanes.Select(n => n.Name));
    }

    [Theory]
    [InlineData("10.0.0.7", "Hostname=node-a", "ExternalIP=203.0.113.7", "InternalIP=10.0.0.7")]
    [InlineData("203.0.113.7", "Hostname=node-a", "ExternalIP=203.0.113.7")]
    [InlineData("node-a", "Hostname=node-a")]
    [InlineData("fd00::7", "InternalIP=fd00::7", "InternalIP=10.0.0.7")]
    [InlineData("node-a", "InternalIP=", "Hostname=node-a")]
    public void The_address_is_InternalIP_else_ExternalIP_else_Hostname(string expected, params string[] addresses)
    {
        var node = Node("node-a", null, addresses.Select(a => (a[..a.IndexOf('=')], a[(a.IndexOf('=') + 1)..])).ToArray());

        var discovered = InventoryDiscovery.FromNodes([node], "/srv/admin.conf", null, Access);

        var listed = Assert.Single(discovered.Inventory.Nodes);
        Assert.Equal(expected, listed.Address);
        Assert.Equal(expected, listed.Access.Ssh!.Host);
        Assert.Empty(discovered.NodesWithoutAddress);
    }

    [Fact]
    public void Each_node_gets_the_given_ssh_access_at_its_own_address_and_the_cluster_the_kubeconfig()
    {
        using var tmp = new TempDir();
        var discovered = InventoryDiscovery.FromNodes(
            [Node("cp-1", Labels(NodeObject.ControlPlaneLabel), ("InternalIP", "10.0.0.1")), Node("w-1", null, ("InternalIP", "10.0.0.2"))],
            Path.GetRelativePath(Directory.GetCurrentDirectory(), tmp["admin.conf"]), "prod", Access);

        var inventory = discovered.Inventory;
        Assert.Equal(tmp["admin.conf"], inventory.Cluster.Kubeconfig);
        Assert.Equal("prod", inventory.Cluster.Context);
        Assert.Equal(tmp.Path, inventory.BaseDirectory);
        foreach (var (node, host) in inventory.Nodes.Zip(["10.0.0.1", "10.0.0.2"]))
        {
            var ssh = node.Access.Ssh!;
            Assert.Null(node.Access.Local);
            Assert.Equal((host, 2222, "ops", "/keys/ops", "/keys/known_hosts", true), (ssh.Host, ssh.Port, ssh.User, ssh.IdentityFile, ssh.KnownHostsFile, ssh.Sudo));
        }
        Assert.NotSame(inventory.Nodes[0].Access.Ssh, inventory.Nodes[1].Access.Ssh);
        Assert.Equal("", Access.Host);

        // What `kube-ca-rotate inventory` writes reads back as the same inventory.
        var read = Inventory.Parse(inventory.ToYaml(), "the discovered inventory", tmp.Path);
        Assert.Equal(inventory.ToYaml(), read.ToYaml());
        Assert.Equal(["cp-1"], read.ControlPlanes.Select(n => n.Name));
    }

    [Fact]
    public void A_node_without_an_address_is_listed_with_an_empty_host_and_named_when_the_inventory_is_used()
    {
        var discovered = InventoryDiscovery.FromNodes(
            [Node("cp-1", Labels(NodeObject.ControlPlaneLabel), ("InternalIP", "10.0.0.1")), Node("w-lost", null), Node("w-ok", null, ("Hostname", "w-ok.example"))],
            "/srv/admin.conf", null, Access);

        Assert.Equal(["w-lost"], discovered.NodesWithoutAddress);
        Assert.Equal("", discovered.Inventory.Node("w-lost").Access.Ssh!.Host);
        var e = Assert.Throws<InventoryException>(discovered.Complete);
        Assert.StartsWith("Node w-lost reports no address in the API", e.Message);
        Assert.Contains("write an inventory by hand, starting from the output of `kube-ca-rotate inventory`", e.Message);
        Assert.Contains("--inventory", e.Message);
    }

    [Fact]
    public void Several_nodes_without_an_address_are_all_named()
    {
        var discovered = InventoryDiscovery.FromNodes([Node("a", Labels(NodeObject.ControlPlaneLabel)), Node("b", null)], "/srv/admin.conf", null, Access);

        Assert.StartsWith("Nodes a, b report no address in the API", Assert.Throws<InventoryException>(discovered.Complete).Message);
    }

    [Fact]
    public void No_nodes_is_an_error_naming_the_kubeconfig()
    {
        var e = Assert.Throws<InventoryException>(() => InventoryDiscovery.FromNodes([], "/srv/admin.conf", null, Access));

        Assert.Equal("The API reached with the kubeconfig /srv/admin.conf lists no Node objects; check that it is the cluster's admin kubeconfig, or pass --inventory FILE with the nodes written by hand.", e.Message);
    }

    [Fact]
    public async Task Discovery_lists_the_nodes_of_a_real_HTTP_API_page_by_page()
    {
        using var tmp = new TempDir();
        V1Node[] nodes = [Node("cp-1", Labels(NodeObject.ControlPlaneLabel), ("InternalIP", "10.0.0.1")), Node("w-1", null, ("InternalIP", "10.0.0.2"))];
        await using var server = await ScriptedApiServer.StartAsync((http, r) =>
        {
            var page = r.Query.GetValueOrDefault("continue") == "page-2" ? 1 : 0;
            var list = new V1NodeList
            {
                ApiVersion = "v1",
                Kind = "NodeList",
                Metadata = new V1ListMeta { ContinueProperty = page == 0 ? "page-2" : null },
                Items = [nodes[page]],
            };
            return r.Path == "/api/v1/nodes"
                ? ScriptedApiServer.WriteJsonAsync(http, JsonNode.Parse(KubernetesJson.Serialize(list))!)
                : ScriptedApiServer.WriteStatusAsync(http, 404, "NotFound", $"{r.Path} not found");
        });
        File.WriteAllBytes(tmp["admin.conf"], server.Kubeconfig());

        var discovered = await InventoryDiscovery.DiscoverAsync(tmp["admin.conf"], null, Access, null, CancellationToken.None);

        Assert.Equal(["cp-1", "w-1"], discovered.Complete().Nodes.Select(n => n.Name));
        Assert.Equal(["10.0.0.1", "10.0.0.2"], discovered.Inventory.Nodes.Select(n => n.Access.Ssh!.Host));
        Assert.Equal(2, server.Requests.Count(r => r.Path == "/api/v1/nodes"));
    }

    [Fact]
    public async Task An_API_that_does_not_answer_is_one_sentence_naming_the_kubeconfig_and_the_way_out()
    {
        using var tmp = new TempDir();
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        File.WriteAllText(tmp["admin.conf"], $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: gone
              cluster:
                server: http://127.0.0.1:{port}
            users:
            - name: u
              user:
                token: t
            contexts:
            - name: gone
              context:
                cluster: gone
                user: u
            current-context: gone
            """);

        var e = await Assert.ThrowsAsync<ClusterApiException>(() =>
            InventoryDiscovery.DiscoverAsync(tmp["admin.conf"], null, Access, new ClusterApiOptions { MaxAttempts = 1 }, CancellationToken.None));

        Assert.StartsWith($"Cannot find the cluster's nodes with the kubeconfig {tmp["admin.conf"]}: ", e.Message);
        Assert.EndsWith("check that `kubectl get nodes` works with it, or pass --inventory FILE with the nodes written by hand.", e.Message);
    }
}
