using KubeCaRotate.Nodes;

namespace KubeCaRotate.Cluster;

/// <summary>A node to read: its name, roles, address, and how to reach its files (null when there is no access).</summary>
public sealed record NodeTarget(string Name, IReadOnlyList<string> Roles, string? Address, INodeAccess? Access);
