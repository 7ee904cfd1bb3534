namespace KubeCaRotate.Cluster;

/// <summary>
/// A cluster as read at one moment: every node's certificates, CA bundles, kubeconfigs, manifests and kubelet files,
/// the operator's kubeconfig, and the API objects that carry CA data. Problems (an unreachable node, a failed list)
/// are sentences; what could be read is still here. Pure data: the trust model evaluates it without I/O.
/// </summary>
public sealed record ClusterSnapshot
{
    public DateTimeOffset TakenAt { get; init; }

    public IReadOnlyList<NodeSnapshot> Nodes { get; init; } = [];

    /// <summary>The kubeconfig the operator uses (the inventory's or --kubeconfig), as a client of the cluster.</summary>
    public NodeFile? OperatorKubeconfig { get; init; }

    /// <summary>The operator kubeconfig's context, when not its current one.</summary>
    public string? OperatorContext { get; init; }

    /// <summary>Null when the API could not be read at all.</summary>
    public ClusterObjects? Objects { get; init; }

    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Content components are known to have loaded at their start (optional; unknown otherwise).</summary>
    public IReadOnlyList<LoadedContent> Loaded { get; init; } = [];

    public NodeSnapshot? Node(string name) => Nodes.FirstOrDefault(n => n.Name == name);
}
