using System.Runtime.CompilerServices;

namespace KubeCaRotate.Lab.Store;

/// <summary>
/// An <see cref="IObjectStore"/> held in memory with etcd's semantics: one revision counter for the whole
/// store, every write gets the next revision as the key's mod revision, and watches replay the history after
/// a revision before following new writes. For tests and for a lab without etcd; history is kept whole
/// (nothing is compacted), so a watch from any past revision succeeds.
/// A Delete event carries the last value and, as its <see cref="StoredObject.ModRevision"/>, the revision of the deletion.
/// </summary>
public sealed class InMemoryObjectStore : IObjectStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, StoredObject> _objects = new(StringComparer.Ordinal);
    private readonly List<StoreEvent> _history = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _revision = 1;

    /// <summary>When set, every call throws <see cref="StoreUnavailableException"/>, as an unreachable etcd would.</summary>
    public bool Unavailable { get; set; }

    public long Revision
    {
        get { lock (_gate) return _revision; }
    }

    public Task<StoredObject?> GetAsync(string key, CancellationToken ct)
    {
        ThrowIfUnavailable();
        lock (_gate)
            return Task.FromResult(_objects.GetValueOrDefault(key));
    }

    public Task<StoredList> ListAsync(string prefix, CancellationToken ct)
    {
        ThrowIfUnavailable();
        lock (_gate)
        {
            var items = _objects.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Value).ToList();
            return Task.FromResult(new StoredList(items, _revision));
        }
    }

    public Task<StoredPage> ListPageAsync(string prefix, string? startKey, long limit, long atRevision, CancellationToken ct)
    {
        ThrowIfUnavailable();
        lock (_gate)
        {
            var from = startKey ?? prefix;
            var objects = atRevision <= 0 || atRevision >= _revision ? _objects : At(atRevision);
            var range = objects.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(kv.Key, from) >= 0).Select(kv => kv.Value).ToList();
            var items = limit > 0 ? range.Take((int)Math.Min(limit, int.MaxValue)).ToList() : range;
            return Task.FromResult(new StoredPage(items, atRevision > 0 ? atRevision : _revision, items.Count < range.Count, range.Count));
        }
    }

    /// <summary>The objects as they were at <paramref name="revision"/>, replayed from the history (nothing is compacted).</summary>
    private SortedDictionary<string, StoredObject> At(long revision)
    {
        var objects = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
        foreach (var e in _history.TakeWhile(e => e.Object.ModRevision <= revision))
        {
            if (e.Type == StoreEventType.Put) objects[e.Object.Key] = e.Object;
            else objects.Remove(e.Object.Key);
        }
        return objects;
    }

    public Task<StoredObject> CreateAsync(string key, byte[] value, CancellationToken ct)
    {
        ThrowIfUnavailable();
        lock (_gate)
        {
            if (_objects.ContainsKey(key))
                throw new StoreConflictException(key);
            var stored = new StoredObject(key, value.ToArray(), ++_revision);
            _objects[key] = stored;
            Publish(new StoreEvent(StoreEventType.Put, stored, Created: true));
            return Task.FromResult(stored);
        }
    }

    public Task<StoredObject> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct)
    {
        ThrowIfUnavailable();
        lock (_gate)
        {
            if (!_objects.TryGetValue(key, out var current))
                throw new StoreNotFoundException(key);
            if (current.ModRevision != expectedRevision)
                throw new StoreConflictException(key);
            var stored = new StoredObject(key, value.ToArray(), ++_revision);
            _objects[key] = stored;
            Publish(new StoreEvent(StoreEventType.Put, stored, Created: false));
            return Task.FromResult(stored);
        }
    }

    public Task DeleteAsync(string key, long? expectedRevision, CancellationToken ct)
    {
        ThrowIfUnavailable();
        lock (_gate)
        {
            if (!_objects.TryGetValue(key, out var current))
                throw new StoreNotFoundException(key);
            if (expectedRevision is { } expected && current.ModRevision != expected)
                throw new StoreConflictException(key);
            _objects.Remove(key);
            Publish(new StoreEvent(StoreEventType.Delete, current with { ModRevision = ++_revision }, Created: false));
            return Task.CompletedTask;
        }
    }

    public async IAsyncEnumerable<StoreEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        ThrowIfUnavailable();
        var position = 0;
        while (!ct.IsCancellationRequested)
        {
            List<StoreEvent> batch;
            Task changed;
            lock (_gate)
            {
                // History is in revision order; skip what the watcher has already seen.
                while (position < _history.Count && _history[position].Object.ModRevision <= afterRevision)
                    position++;
                batch = [];
                for (; position < _history.Count; position++)
                {
                    var e = _history[position];
                    if (e.Object.Key.StartsWith(prefix, StringComparison.Ordinal))
                        batch.Add(e);
                }
                changed = _changed.Task;
            }
            foreach (var e in batch)
            {
                afterRevision = e.Object.ModRevision;
                yield return e;
            }
            try
            {
                await changed.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private void Publish(StoreEvent e)
    {
        _history.Add(e);
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.SetResult();
    }

    private void ThrowIfUnavailable()
    {
        if (Unavailable)
            throw new StoreUnavailableException("The in-memory store was switched to unavailable.");
    }
}
