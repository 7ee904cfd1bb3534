namespace KubeCaRotate.Nodes;

/// <summary>
/// Dry run at the lowest layer: wraps a node, lets reads through, and records writes, deletes, links and
/// commands as <see cref="PlannedChanges"/> without changing anything. Later reads see the planned state, so a
/// whole flow, its checks included, runs as it would for real. Commands are not run, except those the
/// <c>isReadOnlyCommand</c> predicate lets through (checks that change nothing); the others report exit code 0.
/// </summary>
public sealed class DryRunNode : INodeAccess
{
    private readonly INodeAccess _inner;
    private readonly Func<IReadOnlyList<string>, bool> _isReadOnlyCommand;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PlannedEntry> _overlay = new(StringComparer.Ordinal);
    private readonly List<PlannedChange> _changes = [];
    private readonly TimeProvider _time;

    /// <param name="time">The clock planned writes are stamped with (their modification time in the planned state).</param>
    public DryRunNode(INodeAccess inner, Func<IReadOnlyList<string>, bool>? isReadOnlyCommand = null, TimeProvider? time = null)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _isReadOnlyCommand = isReadOnlyCommand ?? (_ => false);
        _time = time ?? TimeProvider.System;
    }

    public string Name => _inner.Name;

    /// <summary>The node this dry run wraps.</summary>
    public INodeAccess Inner => _inner;

    /// <summary>Everything that would have changed, in order.</summary>
    public IReadOnlyList<PlannedChange> PlannedChanges
    {
        get
        {
            lock (_gate)
            {
                return _changes.ToArray();
            }
        }
    }

    public Task<byte[]?> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        var entry = Lookup(key);
        return entry switch
        {
            PlannedEntry.File file => Task.FromResult<byte[]?>(file.Content.ToArray()),
            PlannedEntry.Deleted => Task.FromResult<byte[]?>(null),
            PlannedEntry.Link link => ReadFileAsync(LinkTargetPath(key, link.Target), cancellationToken),
            _ => _inner.ReadFileAsync(key, cancellationToken),
        };
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        if (HasPlannedDescendant(key))
        {
            return Task.FromResult(true);
        }

        return Lookup(key) switch
        {
            PlannedEntry.File => Task.FromResult(true),
            PlannedEntry.Deleted => Task.FromResult(false),
            PlannedEntry.Link link => ExistsAsync(LinkTargetPath(key, link.Target), cancellationToken),
            _ => _inner.ExistsAsync(key, cancellationToken),
        };
    }

    public Task<UnixFileMode?> GetFileModeAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        return Lookup(key) switch
        {
            PlannedEntry.File file => Task.FromResult<UnixFileMode?>(file.Mode),
            PlannedEntry.Deleted => Task.FromResult<UnixFileMode?>(null),
            PlannedEntry.Link link => GetFileModeAsync(LinkTargetPath(key, link.Target), cancellationToken),
            _ => HasPlannedDescendant(key) ? DirectoryModeAsync(key, cancellationToken) : _inner.GetFileModeAsync(key, cancellationToken),
        };
    }

    public async Task<IReadOnlyList<NodeDirectoryEntry>> ListDirectoryAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        var entries = (await _inner.ListDirectoryAsync(key, cancellationToken).ConfigureAwait(false))
            .ToDictionary(entry => entry.Name, StringComparer.Ordinal);
        lock (_gate)
        {
            var prefix = key == "/" ? "/" : key + "/";
            foreach (var (plannedPath, entry) in _overlay)
            {
                if (!plannedPath.StartsWith(prefix, StringComparison.Ordinal) || plannedPath.Length == prefix.Length)
                {
                    continue;
                }

                var rest = plannedPath[prefix.Length..];
                var slash = rest.IndexOf('/');
                var name = slash < 0 ? rest : rest[..slash];
                var childPath = NodePath.Combine(key, name);
                if (slash >= 0)
                {
                    if (entry is not PlannedEntry.Deleted)
                    {
                        entries.TryAdd(name, new NodeDirectoryEntry(name, childPath, NodeEntryKind.Directory));
                    }

                    continue;
                }

                switch (entry)
                {
                    case PlannedEntry.Deleted:
                        entries.Remove(name);
                        break;
                    case PlannedEntry.File:
                        entries[name] = new NodeDirectoryEntry(name, childPath, NodeEntryKind.File);
                        break;
                    case PlannedEntry.Link:
                        entries[name] = new NodeDirectoryEntry(name, childPath, NodeEntryKind.Symlink);
                        break;
                }
            }
        }

        return entries.Values.OrderBy(entry => entry.Name, StringComparer.Ordinal).ToList();
    }

    public Task<DateTimeOffset?> GetModifiedTimeAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        return Lookup(key) switch
        {
            PlannedEntry.File file => Task.FromResult<DateTimeOffset?>(file.WrittenAt),
            PlannedEntry.Deleted => Task.FromResult<DateTimeOffset?>(null),
            PlannedEntry.Link link => GetModifiedTimeAsync(LinkTargetPath(key, link.Target), cancellationToken),
            _ => _inner.GetModifiedTimeAsync(key, cancellationToken),
        };
    }

    public async Task WriteFileAsync(string path, byte[] content, UnixFileMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var key = Key(path);
        var current = await ReadFileAsync(key, cancellationToken).ConfigureAwait(false);
        var change = new PlannedFileWrite(
            Name, key, mode, content.Length, PlannedFileWrite.HashOf(content),
            Existed: current is not null,
            ContentChanged: current is null || !current.AsSpan().SequenceEqual(content));
        lock (_gate)
        {
            _overlay[key] = new PlannedEntry.File(content.ToArray(), mode, _time.GetUtcNow());
            _changes.Add(change);
        }
    }

    public async Task<bool> DeleteFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        var existed = Lookup(key) switch
        {
            PlannedEntry.File or PlannedEntry.Link => true,
            PlannedEntry.Deleted => false,
            _ => await _inner.ExistsAsync(key, cancellationToken).ConfigureAwait(false)
                 || await _inner.ReadSymlinkAsync(key, cancellationToken).ConfigureAwait(false) is not null,
        };
        if (!existed)
        {
            return false;
        }

        lock (_gate)
        {
            _overlay[key] = new PlannedEntry.Deleted();
            _changes.Add(new PlannedFileDelete(Name, key));
        }

        return true;
    }

    public Task<string?> ReadSymlinkAsync(string path, CancellationToken cancellationToken = default)
    {
        var key = Key(path);
        return Lookup(key) switch
        {
            PlannedEntry.Link link => Task.FromResult<string?>(link.Target),
            PlannedEntry.File or PlannedEntry.Deleted => Task.FromResult<string?>(null),
            _ => _inner.ReadSymlinkAsync(key, cancellationToken),
        };
    }

    public Task CreateSymlinkAsync(string path, string target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        var key = Key(path);
        lock (_gate)
        {
            _overlay[key] = new PlannedEntry.Link(target);
            _changes.Add(new PlannedSymlink(Name, key, target));
        }

        return Task.CompletedTask;
    }

    public Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argv);
        if (_isReadOnlyCommand(argv))
        {
            return _inner.RunAsync(argv, cancellationToken);
        }

        lock (_gate)
        {
            _changes.Add(new PlannedCommand(Name, argv.ToArray()));
        }

        return Task.FromResult(new CommandResult(0, "", ""));
    }

    public override string ToString() => $"{_inner} (dry run)";

    private string Key(string path)
    {
        if (string.IsNullOrEmpty(path) || !NodePath.IsAbsolute(path))
        {
            throw new NodeAccessException(Name, path ?? "",
                $"The path '{path}' for node {Name} is not absolute; give node paths from '/', for example /etc/kubernetes/pki/ca.crt.");
        }

        return NodePath.Normalize(path)
            ?? throw new NodeAccessException(Name, path,
                $"The path '{path}' for node {Name} climbs above the node's root with '..'; give a path inside the node.");
    }

    private string LinkTargetPath(string linkPath, string target) =>
        Key(NodePath.IsAbsolute(target) ? target : NodePath.Combine(NodePath.GetDirectory(linkPath), target));

    private PlannedEntry? Lookup(string key)
    {
        lock (_gate)
        {
            // A deleted or replaced parent hides what the real node has below it.
            for (var parent = key; parent != "/"; parent = NodePath.GetDirectory(parent))
            {
                if (_overlay.TryGetValue(parent, out var entry))
                {
                    if (parent == key)
                    {
                        return entry;
                    }

                    if (entry is PlannedEntry.Deleted or PlannedEntry.File)
                    {
                        return new PlannedEntry.Deleted();
                    }
                }
            }

            return null;
        }
    }

    private bool HasPlannedDescendant(string key)
    {
        var prefix = key == "/" ? "/" : key + "/";
        lock (_gate)
        {
            return _overlay.Any(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal) && pair.Value is not PlannedEntry.Deleted);
        }
    }

    private async Task<UnixFileMode?> DirectoryModeAsync(string key, CancellationToken cancellationToken) =>
        await _inner.GetFileModeAsync(key, cancellationToken).ConfigureAwait(false) ?? FileModes.Directory;

    private abstract record PlannedEntry
    {
        public sealed record File(byte[] Content, UnixFileMode Mode, DateTimeOffset WrittenAt) : PlannedEntry;

        public sealed record Link(string Target) : PlannedEntry;

        public sealed record Deleted : PlannedEntry;
    }
}
