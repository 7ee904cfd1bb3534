namespace KubeCaRotate.Nodes;

/// <summary>
/// One handle per cluster node. Every path is the node's own absolute POSIX path
/// (for example <c>/etc/kubernetes/pki/ca.crt</c>), whatever the transport: a local directory standing for
/// "/" in the lab, the machine itself, or SSH. Absent files are normal answers (null, false, empty),
/// not errors; anything else that goes wrong is a <see cref="NodeAccessException"/> naming the node and path.
/// Whoever opens a node disposes it: that closes its connection (SSH); for local nodes and wrappers it does nothing.
/// </summary>
public interface INodeAccess : IDisposable
{
    /// <summary>Nothing to close unless the transport holds a connection.</summary>
    void IDisposable.Dispose()
    {
    }

    /// <summary>The node name, as the inventory and the Kubernetes Node object call it.</summary>
    string Name { get; }

    /// <summary>The whole content of a file, or null when the file does not exist. Follows symbolic links.</summary>
    Task<byte[]?> ReadFileAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Whether a file, directory or valid symbolic link exists at the path (as <c>test -e</c>).</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>The permission bits of the file (following links), or null when it does not exist.</summary>
    Task<UnixFileMode?> GetFileModeAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// When the file's content last changed (following links), or null when it does not exist or the transport cannot
    /// tell. A component that reads a file only at its start still uses the previous content if this is after its start.
    /// </summary>
    Task<DateTimeOffset?> GetModifiedTimeAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult<DateTimeOffset?>(null);

    /// <summary>The entries of a directory, sorted by name; empty when the directory does not exist.</summary>
    Task<IReadOnlyList<NodeDirectoryEntry>> ListDirectoryAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the file atomically: the content goes to a temporary file in the same directory that already
    /// has <paramref name="mode"/>, is flushed to disk, then renamed over the target, so a reader sees the old
    /// file or the new one, never a partial one. Missing parent directories are created with mode 0755.
    /// </summary>
    Task WriteFileAsync(string path, byte[] content, UnixFileMode mode, CancellationToken cancellationToken = default);

    /// <summary>Removes a file or symbolic link (not its target). Returns false when there was nothing to remove.</summary>
    Task<bool> DeleteFileAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>The target of a symbolic link as the node sees it, or null when the path is absent or not a link.</summary>
    Task<string?> ReadSymlinkAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Points a symbolic link at <paramref name="target"/> (a node path or a path relative to the link's
    /// directory), replacing an existing link atomically, as the kubelet does with kubelet-client-current.pem.
    /// </summary>
    Task CreateSymlinkAsync(string path, string target, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a program on the node with an argument list (never a shell string) and returns its exit code and
    /// output. A non-zero exit code is returned, not thrown; a program that cannot be started is an error.
    /// </summary>
    Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default);
}
