using KubeCaRotate.Nodes;

namespace KubeCaRotate.Cluster;

/// <summary>
/// A node to read: its name, roles, address, how to reach its files (null when there is no access) and the command that
/// prints when its kubelet started (null: not asked, the start stays unknown).
/// </summary>
public sealed record NodeTarget(string Name, IReadOnlyList<string> Roles, string? Address, INodeAccess? Access, IReadOnlyList<string>? KubeletStartedAtCommand = null);
