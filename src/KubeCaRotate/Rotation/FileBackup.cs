using System.Text;
using System.Text.Json;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Rotation;

/// <summary>The index entry of one backed-up file: whether it existed, its mode and the SHA-256 of its bytes.</summary>
public sealed record FileBackupEntry(string Path, bool Existed, int? Mode, string? Sha256, DateTimeOffset BackedUpAt);

/// <summary>
/// The original bytes of every file a rotation changes on one node, kept before the first change under
/// <see cref="RotationPaths.BackupDir"/>. The copy is written first (0600, whatever the original's mode: it may be a
/// key), then the index entry, which marks the backup complete. A file is never backed up twice: on a resumed run the
/// first original wins, because an index entry that exists is never rewritten, and a missing entry means the run never
/// changed the file (it changes a file only after its entry is written).
/// </summary>
public sealed class FileBackup(INodeAccess node, RotationPaths paths, string rotationId, TimeProvider time)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public string NodeName => node.Name;

    /// <summary>Keeps the current bytes of <paramref name="path"/> (or that it is absent) unless already kept. Returns whether it wrote a backup.</summary>
    public async Task<bool> BackupAsync(string path, CancellationToken ct = default)
    {
        var indexPath = paths.BackupIndex(rotationId, path);
        if (await node.ExistsAsync(indexPath, ct).ConfigureAwait(false)) return false;
        var content = await node.ReadFileAsync(path, ct).ConfigureAwait(false);
        UnixFileMode? mode = null;
        if (content is not null)
        {
            mode = await node.GetFileModeAsync(path, ct).ConfigureAwait(false);
            await node.WriteFileAsync(paths.BackupCopy(rotationId, path), content, FileModes.Private, ct).ConfigureAwait(false);
        }
        var entry = new FileBackupEntry(path, content is not null, mode is null ? null : (int)mode.Value,
            content is null ? null : PlannedFileWrite.HashOf(content), time.GetUtcNow());
        await node.WriteFileAsync(indexPath, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, Options) + "\n"), FileModes.Private, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>The entry for <paramref name="path"/>, or null when it was never backed up.</summary>
    public async Task<FileBackupEntry?> EntryAsync(string path, CancellationToken ct = default)
    {
        var indexPath = paths.BackupIndex(rotationId, path);
        var bytes = await node.ReadFileAsync(indexPath, ct).ConfigureAwait(false);
        if (bytes is null) return null;
        try
        {
            return JsonSerializer.Deserialize<FileBackupEntry>(bytes, Options)
                ?? throw new RotationException($"The backup entry {node.Name}:{indexPath} is empty; restore {path} by hand from {paths.BackupCopy(rotationId, path)}.");
        }
        catch (JsonException e)
        {
            throw new RotationException($"The backup entry {node.Name}:{indexPath} is damaged ({e.Message.TrimEnd('.')}); restore {path} by hand from {paths.BackupCopy(rotationId, path)}.", e);
        }
    }

    /// <summary>Every path backed up on this node, sorted.</summary>
    public async Task<IReadOnlyList<string>> BackedUpPathsAsync(CancellationToken ct = default)
    {
        var root = NodePath.Combine(paths.BackupDir(rotationId), "index");
        var result = new List<string>();
        async Task Walk(string dir)
        {
            foreach (var e in await node.ListDirectoryAsync(dir, ct).ConfigureAwait(false))
            {
                if (e.Kind == NodeEntryKind.Directory) await Walk(e.Path).ConfigureAwait(false);
                else if (e.Name.EndsWith(".json", StringComparison.Ordinal)) result.Add("/" + e.Path[(root.Length + 1)..^5]);
            }
        }
        await Walk(root).ConfigureAwait(false);
        return result.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Puts the original back byte for byte with its mode, or removes the file when it did not exist. Returns false when
    /// the file was never backed up. A copy whose hash differs from its entry is refused, naming it.
    /// </summary>
    public async Task<bool> RestoreAsync(string path, CancellationToken ct = default)
    {
        var entry = await EntryAsync(path, ct).ConfigureAwait(false);
        if (entry is null) return false;
        if (!entry.Existed)
        {
            await node.DeleteFileAsync(path, ct).ConfigureAwait(false);
            return true;
        }
        var copyPath = paths.BackupCopy(rotationId, path);
        var copy = await node.ReadFileAsync(copyPath, ct).ConfigureAwait(false);
        if (copy is null || PlannedFileWrite.HashOf(copy) != entry.Sha256)
            throw new RotationException($"The backup copy {node.Name}:{copyPath} is {(copy is null ? "missing" : "not the original (its SHA-256 differs from the index)")}; {path} was left as it is: restore it by hand.");
        var current = await node.ReadFileAsync(path, ct).ConfigureAwait(false);
        var mode = (UnixFileMode)(entry.Mode ?? (int)FileModes.Private);
        if (current is null || !current.AsSpan().SequenceEqual(copy) || await node.GetFileModeAsync(path, ct).ConfigureAwait(false) != mode)
            await node.WriteFileAsync(path, copy, mode, ct).ConfigureAwait(false);
        return true;
    }
}
