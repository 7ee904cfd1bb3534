namespace KubeCaRotate.Cluster;

/// <summary>A Kubernetes object by kind, namespace (null for cluster-scoped) and name.</summary>
public sealed record ObjectRef(string Kind, string? Namespace, string Name)
{
    public override string ToString() => Namespace is null ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}
