using KubeCaRotate.Nodes;

namespace KubeCaRotate.Cluster;

/// <summary>
/// An inventory built from the API's Node objects (see <see cref="InventoryDiscovery"/>), and the nodes that reported no
/// address: those are listed with an empty access.ssh.host, for the operator to fill in.
/// </summary>
public sealed record DiscoveredInventory(Inventory Inventory, IReadOnlyList<string> NodesWithoutAddress)
{
    /// <summary>The inventory, when every node has an address to reach it at; otherwise an <see cref="InventoryException"/> naming the nodes without one.</summary>
    public Inventory Complete() => NodesWithoutAddress.Count == 0
        ? Inventory
        : throw new InventoryException(WithoutAddressMessage(NodesWithoutAddress));

    public static string WithoutAddressMessage(IReadOnlyList<string> nodes) =>
        $"{(nodes.Count == 1 ? "Node" : "Nodes")} {string.Join(", ", nodes)} {(nodes.Count == 1 ? "reports" : "report")} no address in the API " +
        "(no InternalIP, ExternalIP or Hostname in status.addresses), so it cannot be reached over SSH; write an inventory by hand, " +
        "starting from the output of `kube-ca-rotate inventory` with access.ssh.host filled in, and pass it with --inventory.";
}
