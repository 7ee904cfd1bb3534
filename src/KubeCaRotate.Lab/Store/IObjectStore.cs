namespace KubeCaRotate.Lab.Store;

/// <summary>
/// The lab API server's storage, shaped like etcd's KV API because the real store is etcd:
/// keys are "/registry/{resource}/{namespace}/{name}" (cluster-scoped: no namespace segment),
/// values are the object's JSON, and an object's resourceVersion is its etcd mod_revision.
/// </summary>
public interface IObjectStore
{
    Task<StoredObject?> GetAsync(string key, CancellationToken ct);

    /// <summary>All objects whose key starts with <paramref name="prefix"/>, in key order, and the store revision they were read at.</summary>
    Task<StoredList> ListAsync(string prefix, CancellationToken ct);

    /// <summary>
    /// One page of a paged list, as etcd's range with a limit: at most <paramref name="limit"/> objects whose key starts
    /// with <paramref name="prefix"/> and is not before <paramref name="startKey"/> (the prefix itself when null), in key
    /// order, read at <paramref name="atRevision"/> (the latest when 0). <see cref="StoredPage.More"/> says whether keys
    /// follow the page; <see cref="StoredPage.Count"/> counts every key from the start to the end of the prefix.
    /// </summary>
    Task<StoredPage> ListPageAsync(string prefix, string? startKey, long limit, long atRevision, CancellationToken ct);

    /// <summary>Creates the key; throws <see cref="StoreConflictException"/> when it already exists.</summary>
    Task<StoredObject> CreateAsync(string key, byte[] value, CancellationToken ct);

    /// <summary>Replaces the key only if its mod revision is still <paramref name="expectedRevision"/>;
    /// throws <see cref="StoreConflictException"/> otherwise, <see cref="StoreNotFoundException"/> when it is gone.</summary>
    Task<StoredObject> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct);

    /// <summary>Deletes the key (only at <paramref name="expectedRevision"/> when given); throws <see cref="StoreNotFoundException"/> when absent.</summary>
    Task DeleteAsync(string key, long? expectedRevision, CancellationToken ct);

    /// <summary>Changes under <paramref name="prefix"/> after <paramref name="afterRevision"/>, until cancelled.</summary>
    IAsyncEnumerable<StoreEvent> WatchAsync(string prefix, long afterRevision, CancellationToken ct);
}

public sealed record StoredObject(string Key, byte[] Value, long ModRevision);

public sealed record StoredList(IReadOnlyList<StoredObject> Items, long Revision);

public sealed record StoredPage(IReadOnlyList<StoredObject> Items, long Revision, bool More, long Count);

public enum StoreEventType { Put, Delete }

/// <summary>A change: for Put, the new value; for Delete, the last value before deletion (may be empty if the store cannot tell).</summary>
public sealed record StoreEvent(StoreEventType Type, StoredObject Object, bool Created);

public sealed class StoreConflictException(string key) : Exception($"The object at {key} was changed or already exists.")
{
    public string Key { get; } = key;
}

public sealed class StoreNotFoundException(string key) : Exception($"No object at {key}.")
{
    public string Key { get; } = key;
}

/// <summary>The store cannot be reached (e.g. etcd refuses our client certificate): the API server answers 503/500.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
