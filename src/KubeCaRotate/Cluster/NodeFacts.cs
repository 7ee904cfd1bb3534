namespace KubeCaRotate.Cluster;

/// <summary>
/// A Node object: its InternalIP, and when its kubelet last started if whoever built the facts knows it (the API does
/// not say; <see cref="ClusterReader"/> asks the node, see <see cref="KubeletStart"/>, which wins over this).
/// </summary>
public sealed record NodeFacts(string Name, string? InternalIp, bool IsControlPlane, DateTimeOffset? KubeletStartedAt);
