namespace KubeCaRotate.Cluster;

/// <summary>A Node object: its InternalIP and, when the cluster shows it, when its kubelet last started.</summary>
public sealed record NodeFacts(string Name, string? InternalIp, bool IsControlPlane, DateTimeOffset? KubeletStartedAt);
