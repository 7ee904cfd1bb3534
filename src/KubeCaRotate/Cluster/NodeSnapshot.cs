namespace KubeCaRotate.Cluster;

/// <summary>What was read from one node: its files by node path and when its kubelet started (null: not asked), or why it could not be read.</summary>
public sealed record NodeSnapshot(string Name, IReadOnlyList<string> Roles, string? Address, IReadOnlyDictionary<string, NodeFile> Files, string? Problem = null, KubeletStart? KubeletStart = null)
{
    public bool IsControlPlane => Roles.Contains("control-plane");

    public NodeFile? File(string path) => Files.GetValueOrDefault(path);
}
