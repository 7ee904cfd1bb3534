using System.Security.Cryptography;

namespace KubeCaRotate.Nodes;

/// <summary>
/// A change a dry run would have made on a node. File contents are never kept here (they may be private keys):
/// only their length and SHA-256, and whether they differ from what the node holds.
/// </summary>
public abstract record PlannedChange(string NodeName)
{
    /// <summary>One line for a plan, e.g. "cp-1: write /etc/kubernetes/pki/ca.crt (1180 bytes, mode 0644)".</summary>
    public abstract string Describe();
}

/// <summary>A file that would be written.</summary>
public sealed record PlannedFileWrite(string NodeName, string Path, UnixFileMode Mode, int Length, string Sha256, bool Existed, bool ContentChanged)
    : PlannedChange(NodeName)
{
    public static string HashOf(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    public override string Describe() =>
        $"{NodeName}: {(Existed ? "replace" : "create")} {Path} ({Length} bytes, mode {FileModes.ToOctal(Mode)})" +
        (Existed && !ContentChanged ? ", same content" : "");
}

/// <summary>A file or link that would be removed.</summary>
public sealed record PlannedFileDelete(string NodeName, string Path) : PlannedChange(NodeName)
{
    public override string Describe() => $"{NodeName}: delete {Path}";
}

/// <summary>A symbolic link that would be created or re-pointed.</summary>
public sealed record PlannedSymlink(string NodeName, string Path, string Target) : PlannedChange(NodeName)
{
    public override string Describe() => $"{NodeName}: link {Path} -> {Target}";
}

/// <summary>A command that would be run.</summary>
public sealed record PlannedCommand(string NodeName, IReadOnlyList<string> Argv) : PlannedChange(NodeName)
{
    public override string Describe() => $"{NodeName}: run {string.Join(' ', Argv)}";
}
