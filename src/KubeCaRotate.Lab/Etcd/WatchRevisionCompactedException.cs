namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// A watch asked for changes that etcd has already compacted away. The API server answers such a watch with
/// 410 Gone ("too old resource version") so the client lists again, as the real one does.
/// </summary>
public sealed class WatchRevisionCompactedException(string prefix, long requestedRevision, long compactRevision)
    : Exception($"The changes under {prefix} from revision {requestedRevision} are gone: etcd has compacted its history up to revision {compactRevision}; list again and watch from the new revision.")
{
    public long RequestedRevision { get; } = requestedRevision;

    public long CompactRevision { get; } = compactRevision;
}
