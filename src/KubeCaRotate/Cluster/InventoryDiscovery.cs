using k8s.Models;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Cluster;

/// <summary>
/// The inventory of a cluster an operator reaches with an admin kubeconfig and SSH: the nodes come from the API's Node
/// objects (name, role by <see cref="NodeObject.IsControlPlane"/>, address by <see cref="NodeObject.Address"/>), each
/// reached over SSH at its address with the same login, and the kubeconfig is the cluster's.
/// </summary>
public static class InventoryDiscovery
{
    /// <summary>Lists the Node objects with the kubeconfig and builds the inventory; an API that does not answer is a <see cref="ClusterApiException"/> naming the kubeconfig.</summary>
    public static async Task<DiscoveredInventory> DiscoverAsync(string kubeconfig, string? context, SshAccessSpec access, ClusterApiOptions? options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(kubeconfig);
        var full = Path.GetFullPath(kubeconfig);
        IReadOnlyList<V1Node> nodes;
        using (var api = ClusterApi.FromKubeconfig(full, context, options))
        {
            try
            {
                nodes = await api.ListNodesAsync(ct).ConfigureAwait(false);
            }
            catch (ClusterApiException e)
            {
                throw new ClusterApiException(
                    $"Cannot find the cluster's nodes with the kubeconfig {full}{(context is null ? "" : $" (context {context})")}: {e.Message.TrimEnd('.')}; " +
                    "check that `kubectl get nodes` works with it, or pass --inventory FILE with the nodes written by hand.", e.StatusCode, e);
            }
        }
        return FromNodes(nodes, full, context, access);
    }

    /// <summary>
    /// The inventory of these Node objects: each node's access is <paramref name="access"/> with its address as the
    /// host. A node without an address keeps an empty host and is named in <see cref="DiscoveredInventory.NodesWithoutAddress"/>.
    /// </summary>
    public static DiscoveredInventory FromNodes(IReadOnlyList<V1Node> nodes, string kubeconfig, string? context, SshAccessSpec access)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(access);
        var full = Path.GetFullPath(kubeconfig);
        if (nodes.Count == 0)
            throw new InventoryException($"The API reached with the kubeconfig {full} lists no Node objects; check that it is the cluster's admin kubeconfig, or pass --inventory FILE with the nodes written by hand.");
        var withoutAddress = new List<string>();
        var listed = new List<InventoryNode>();
        foreach (var node in nodes)
        {
            var name = node.Metadata?.Name;
            if (string.IsNullOrWhiteSpace(name)) throw new InventoryException($"The API reached with the kubeconfig {full} lists a Node object without a name; check the cluster's Node objects (kubectl get nodes).");
            var address = NodeObject.Address(node);
            if (address is null) withoutAddress.Add(name);
            listed.Add(new InventoryNode
            {
                Name = name,
                Roles = [NodeObject.IsControlPlane(node) ? "control-plane" : "worker"],
                Address = address,
                Access = new NodeAccessSpec { Ssh = At(access, address ?? "") },
            });
        }
        var inventory = new Inventory
        {
            BaseDirectory = Path.GetDirectoryName(full)!,
            Cluster = new InventoryCluster { Kubeconfig = full, Context = context },
            Nodes = listed,
        };
        return new DiscoveredInventory(inventory, withoutAddress);
    }

    private static SshAccessSpec At(SshAccessSpec access, string host) => new()
    {
        Host = host,
        Port = access.Port,
        User = access.User,
        IdentityFile = access.IdentityFile,
        KnownHostsFile = access.KnownHostsFile,
        Sudo = access.Sudo,
        Root = access.Root,
    };
}
