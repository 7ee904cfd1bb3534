using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>Thrown where the process would have died.</summary>
public sealed class SimulatedKill : Exception
{
    public SimulatedKill() : base("killed") { }
}

/// <summary>
/// Counts every change (write, delete, link, command) across all nodes of a run and "kills" the run just before change
/// number <see cref="KillAt"/>: from then on every operation on every node throws, as nothing runs after SIGKILL.
/// </summary>
public sealed class KillSwitch(int killAt)
{
    private int _changes;

    public int KillAt { get; } = killAt;

    public int Changes => _changes;

    public bool Killed { get; private set; }

    /// <summary>The first bytes ever written to a path ending like this (e.g. the staged CA), by suffix.</summary>
    public Dictionary<string, byte[]> FirstWrites { get; } = new(StringComparer.Ordinal);

    public void BeforeChange()
    {
        lock (this)
        {
            if (Killed) throw new SimulatedKill();
            if (++_changes == KillAt)
            {
                Killed = true;
                throw new SimulatedKill();
            }
        }
    }

    public void Alive()
    {
        lock (this)
        {
            if (Killed) throw new SimulatedKill();
        }
    }

    public INodeAccess Wrap(INodeAccess node) => new CrashingNode(node, this);

    private sealed class CrashingNode(INodeAccess inner, KillSwitch kill) : INodeAccess
    {
        public string Name => inner.Name;

        public Task<byte[]?> ReadFileAsync(string path, CancellationToken ct = default) { kill.Alive(); return inner.ReadFileAsync(path, ct); }

        public Task<bool> ExistsAsync(string path, CancellationToken ct = default) { kill.Alive(); return inner.ExistsAsync(path, ct); }

        public Task<UnixFileMode?> GetFileModeAsync(string path, CancellationToken ct = default) { kill.Alive(); return inner.GetFileModeAsync(path, ct); }

        public Task<IReadOnlyList<NodeDirectoryEntry>> ListDirectoryAsync(string path, CancellationToken ct = default) { kill.Alive(); return inner.ListDirectoryAsync(path, ct); }

        public Task WriteFileAsync(string path, byte[] content, UnixFileMode mode, CancellationToken ct = default)
        {
            kill.BeforeChange();
            lock (kill.FirstWrites) kill.FirstWrites.TryAdd($"{Name}:{path}", content.ToArray());
            return inner.WriteFileAsync(path, content, mode, ct);
        }

        public Task<bool> DeleteFileAsync(string path, CancellationToken ct = default) { kill.BeforeChange(); return inner.DeleteFileAsync(path, ct); }

        public Task<string?> ReadSymlinkAsync(string path, CancellationToken ct = default) { kill.Alive(); return inner.ReadSymlinkAsync(path, ct); }

        public Task CreateSymlinkAsync(string path, string target, CancellationToken ct = default) { kill.BeforeChange(); return inner.CreateSymlinkAsync(path, target, ct); }

        public Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CancellationToken ct = default) { kill.BeforeChange(); return inner.RunAsync(argv, ct); }
    }
}
