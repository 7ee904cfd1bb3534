using KubeCaRotate.Nodes;

namespace KubeCaRotate.Rotation;

/// <summary>One node as the rotation reaches it: its files and commands, its role, and how its kubelet and static pods restart.</summary>
public sealed record RotationNode(INodeAccess Access, bool IsControlPlane, IReadOnlyList<string> RestartKubelet, IReadOnlyList<string>? RestartStaticPod = null)
{
    public string Name => Access.Name;
}

/// <summary>
/// The cluster's nodes, control planes first in inventory order (the first is the anchor the old CA is read from).
/// Disposing closes the nodes' connections (SSH); the owner of the nodes opened from the inventory does it.
/// </summary>
public sealed class RotationNodes : IDisposable
{
    public RotationNodes(IEnumerable<RotationNode> nodes)
    {
        All = nodes.OrderBy(n => n.IsControlPlane ? 0 : 1).ToList();
        if (!All.Any(n => n.IsControlPlane))
            throw new RotationException("The cluster description names no control-plane node; mark the control-plane nodes with the role control-plane in the inventory.");
        var duplicate = All.GroupBy(n => n.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new RotationException($"Node {duplicate.Key} is listed twice; list each node once.");
    }

    public IReadOnlyList<RotationNode> All { get; }

    public IReadOnlyList<RotationNode> ControlPlanes => All.Where(n => n.IsControlPlane).ToList();

    public RotationNode this[string name] =>
        All.FirstOrDefault(n => n.Name == name) ?? throw new RotationException($"There is no node {name}; the nodes are {string.Join(", ", All.Select(n => n.Name))}.");

    /// <summary>The nodes of an inventory, opened.</summary>
    public static RotationNodes FromInventory(Inventory inventory) =>
        new(inventory.Nodes.Select(n => new RotationNode(inventory.Open(n), n.IsControlPlane, n.RestartKubeletCommand, n.RestartStaticPod)));

    /// <summary>The same nodes behind <see cref="DryRunNode"/>s: reads see planned changes, nothing is changed.</summary>
    public RotationNodes ForDryRun(TimeProvider time) =>
        new(All.Select(n => n with { Access = new DryRunNode(n.Access, time: time) }));

    public void Dispose()
    {
        foreach (var node in All)
        {
            node.Access.Dispose();
        }
    }

    /// <summary>Everything the dry-run nodes recorded, in order per node.</summary>
    public IReadOnlyList<PlannedChange> PlannedChanges =>
        All.Select(n => n.Access).OfType<DryRunNode>().SelectMany(d => d.PlannedChanges).ToList();
}
