using System.ComponentModel;
using System.Diagnostics;

namespace KubeCaRotate.Nodes;

/// <summary>
/// A node reached through this machine's file system: node path "/" maps to <c>root</c>. With root "/" this is
/// the machine itself (the tool running on a control-plane node); in the lab each node is a directory.
/// Paths that are not absolute, or that lead outside the root through ".." or a symbolic link, are refused.
/// Commands run on this machine with the root as working directory; their arguments are not translated.
/// </summary>
public sealed class LocalNode : INodeAccess
{
    private const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly RootedPathResolver _resolver;

    public LocalNode(string name, string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (!Path.IsPathFullyQualified(root))
        {
            throw new ArgumentException($"The root directory '{root}' of node {name} must be an absolute path.", nameof(root));
        }

        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException(
                $"The root directory {root} of node {name} does not exist; create it or fix the node's root in the inventory.");
        }

        Name = name;
        _resolver = new RootedPathResolver(name, root);
    }

    public string Name { get; }

    /// <summary>The directory on this machine that stands for the node's "/".</summary>
    public string Root => _resolver.Root;

    /// <summary>The path on this machine for a node path, after resolving links inside the root.</summary>
    public string GetHostPath(string path) => _resolver.Resolve(_resolver.NormalizeNodePath(path), followFinal: true);

    public async Task<byte[]?> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        return await Guard(nodePath, "read", async () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: true);
            if (Directory.Exists(host))
            {
                throw new NodeAccessException(Name, nodePath, $"Cannot read {nodePath} on node {Name}: it is a directory, not a file.");
            }

            if (!File.Exists(host))
            {
                RequireNoFileAbove(nodePath, host);
                return null;
            }

            return await File.ReadAllBytesAsync(host, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        return Guard(nodePath, "check", () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: true);
            return Task.FromResult(File.Exists(host) || Directory.Exists(host));
        });
    }

    public Task<UnixFileMode?> GetFileModeAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        return Guard(nodePath, "read the mode of", () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: true);
            UnixFileMode? mode = File.Exists(host) || Directory.Exists(host) ? UnixCalls.GetMode(host) : null;
            return Task.FromResult(mode);
        });
    }

    public Task<DateTimeOffset?> GetModifiedTimeAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        return Guard(nodePath, "read the modification time of", () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: true);
            DateTimeOffset? time = File.Exists(host) ? new DateTimeOffset(File.GetLastWriteTimeUtc(host), TimeSpan.Zero) : null;
            return Task.FromResult(time);
        });
    }

    public Task<IReadOnlyList<NodeDirectoryEntry>> ListDirectoryAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        return Guard(nodePath, "list", () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: true);
            if (!Directory.Exists(host))
            {
                return Task.FromResult<IReadOnlyList<NodeDirectoryEntry>>([]);
            }

            var entries = new DirectoryInfo(host).EnumerateFileSystemInfos()
                .Select(info => new NodeDirectoryEntry(
                    info.Name,
                    NodePath.Combine(nodePath, info.Name),
                    info.LinkTarget is not null ? NodeEntryKind.Symlink
                        : info is DirectoryInfo ? NodeEntryKind.Directory
                        : NodeEntryKind.File))
                .OrderBy(entry => entry.Name, StringComparer.Ordinal)
                .ToList();
            return Task.FromResult<IReadOnlyList<NodeDirectoryEntry>>(entries);
        });
    }

    public async Task WriteFileAsync(string path, byte[] content, UnixFileMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var nodePath = _resolver.NormalizeNodePath(path);
        RequireFileName(nodePath, "write");
        await Guard(nodePath, "write", async () =>
        {
            CreateDirectories(NodePath.GetDirectory(nodePath));
            var target = _resolver.Resolve(nodePath, followFinal: true);
            if (Directory.Exists(target))
            {
                throw new NodeAccessException(Name, nodePath, $"Cannot write {nodePath} on node {Name}: it is a directory.");
            }

            // The path may be a link into another directory: the temporary file must sit beside the real target.
            var targetDirectory = Path.GetDirectoryName(target)!;
            UnixCalls.CreateDirectory(targetDirectory, DirectoryMode);
            var temporary = Path.Combine(targetDirectory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
            try
            {
                await using (var stream = UnixCalls.CreatePrivateFile(temporary))
                {
                    await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                    stream.Flush(flushToDisk: true);
                }

                // chmod is not subject to the umask, unlike the create mode.
                UnixCalls.SetMode(temporary, mode);
                File.Move(temporary, target, overwrite: true);
            }
            catch
            {
                TryDelete(temporary);
                throw;
            }

            return true;
        }).ConfigureAwait(false);
    }

    public Task<bool> DeleteFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        RequireFileName(nodePath, "delete");
        return Guard(nodePath, "delete", () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: false);
            var info = new FileInfo(host);
            if (info.LinkTarget is null && Directory.Exists(host))
            {
                throw new NodeAccessException(Name, nodePath, $"Cannot delete {nodePath} on node {Name}: it is a directory, not a file.");
            }

            if (info.LinkTarget is null && !info.Exists)
            {
                return Task.FromResult(false);
            }

            File.Delete(host);
            return Task.FromResult(true);
        });
    }

    public Task<string?> ReadSymlinkAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        return Guard(nodePath, "read the link", () =>
        {
            var host = _resolver.Resolve(nodePath, followFinal: false);
            var diskTarget = new FileInfo(host).LinkTarget;
            return Task.FromResult(diskTarget is null ? null : _resolver.ToNodeLinkTarget(nodePath, diskTarget));
        });
    }

    public Task CreateSymlinkAsync(string path, string target, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        RequireFileName(nodePath, "link");
        var diskTarget = _resolver.ToDiskLinkTarget(nodePath, target);
        return Guard(nodePath, "create the link", () =>
        {
            var directory = CreateDirectories(NodePath.GetDirectory(nodePath));
            var host = Path.Combine(directory, NodePath.GetFileName(nodePath));
            if (new FileInfo(host).LinkTarget is null && Directory.Exists(host))
            {
                throw new NodeAccessException(Name, nodePath, $"Cannot create the link {nodePath} on node {Name}: a directory is in the way.");
            }

            var temporary = Path.Combine(directory, $".{NodePath.GetFileName(nodePath)}.{Guid.NewGuid():N}.tmp");
            try
            {
                File.CreateSymbolicLink(temporary, diskTarget);
                File.Move(temporary, host, overwrite: true);
            }
            catch
            {
                TryDelete(temporary);
                throw;
            }

            return Task.FromResult(true);
        });
    }

    public async Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argv);
        if (argv.Count == 0 || string.IsNullOrEmpty(argv[0]))
        {
            throw new ArgumentException($"A command for node {Name} needs at least the program name.", nameof(argv));
        }

        var startInfo = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Root,
        };
        foreach (var argument in argv.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new NodeAccessException(Name, argv[0],
                $"Cannot run '{argv[0]}' on node {Name}: {ex.Message}. Check that the program is installed and on the PATH.", ex);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return new CommandResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It has already exited.
            }

            throw;
        }
    }

    public override string ToString() => $"{Name} (local, root {Root})";

    /// <summary>Creates the node directory (and its parents) with mode 0755 and returns its host path.</summary>
    private string CreateDirectories(string nodeDirectory)
    {
        var host = _resolver.Resolve(nodeDirectory, followFinal: true);
        if (File.Exists(host))
        {
            throw new NodeAccessException(Name, nodeDirectory, $"Cannot create the directory {nodeDirectory} on node {Name}: a file is in the way.");
        }

        UnixCalls.CreateDirectory(host, DirectoryMode);
        return host;
    }

    /// <summary>A missing file under something that is a file, not a directory, is a broken layout, not an absence.</summary>
    private void RequireNoFileAbove(string nodePath, string host)
    {
        for (var parent = Path.GetDirectoryName(host); parent is not null && parent.Length >= Root.Length; parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent))
            {
                return;
            }

            if (File.Exists(parent))
            {
                throw new NodeAccessException(Name, nodePath,
                    $"Cannot read {nodePath} on node {Name}: {(_resolver.IsHostRoot ? parent : parent[Root.Length..])} is a file where a directory is expected.");
            }
        }
    }

    private void RequireFileName(string nodePath, string verb)
    {
        if (nodePath == "/")
        {
            throw new NodeAccessException(Name, nodePath, $"Cannot {verb} '/' on node {Name}: give the path of a file.");
        }
    }

    private static void TryDelete(string hostPath)
    {
        try
        {
            File.Delete(hostPath);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Turns the file system's exceptions into one sentence naming the node and the path.</summary>
    private async Task<T> Guard<T>(string nodePath, string verb, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (NodeAccessException)
        {
            throw;
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new NodeAccessException(Name, nodePath,
                $"Cannot {verb} {nodePath} on node {Name}: permission denied ({ex.Message}). Run with enough privileges (root or sudo).", ex);
        }
        catch (IOException ex)
        {
            throw new NodeAccessException(Name, nodePath, $"Cannot {verb} {nodePath} on node {Name}: {ex.Message}", ex);
        }
    }
}
