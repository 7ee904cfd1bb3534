using KubeCaRotate.Nodes;
using KubeCaRotate.Tests.Rotation;

namespace KubeCaRotate.Tests.Cli;

/// <summary>An inventory file for a <see cref="NodeDirectoryCluster"/>: each node a local directory, kubelet restarts the real `true`.</summary>
public static class NodeDirectoryInventory
{
    public static string Write(NodeDirectoryCluster cluster)
    {
        var inventory = new Inventory
        {
            Nodes = cluster.NodeNames.Select(n => new InventoryNode
            {
                Name = n, Roles = [NodeDirectoryCluster.ControlPlaneNames.Contains(n) ? "control-plane" : "worker"],
                Access = new NodeAccessSpec { Local = new LocalAccessSpec { Root = Path.Combine("nodes", n) } }, RestartKubelet = ["true"],
            }).ToList(),
        };
        var file = Path.Combine(cluster.Root, "inventory.yaml");
        File.WriteAllText(file, inventory.ToYaml());
        return file;
    }
}
