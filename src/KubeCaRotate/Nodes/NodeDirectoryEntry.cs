namespace KubeCaRotate.Nodes;

/// <summary>What kind of thing a directory entry is (symbolic links are not followed).</summary>
public enum NodeEntryKind
{
    File,
    Directory,
    Symlink,
    Other,
}

/// <summary>One entry of a node directory: its name, its full node path and its kind.</summary>
public sealed record NodeDirectoryEntry(string Name, string Path, NodeEntryKind Kind);
