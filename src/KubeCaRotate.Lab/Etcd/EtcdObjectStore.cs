using System.Runtime.CompilerServices;
using System.Text;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// The lab API server's store on real etcd, through the v3 JSON gateway on the members' client URLs over mTLS.
/// Like kube-apiserver, it loads the CA bundle, client certificate and key once, when built: replacing those files
/// later changes nothing until a new store is built (the API server restarts). Requests go to one member and move
/// to the next when that member cannot be reached, does not trust us, or has no leader.
/// </summary>
public sealed class EtcdObjectStore : IObjectStore, IDisposable
{
    private static readonly TimeSpan MaxWatchBackoff = TimeSpan.FromSeconds(1);

    private readonly EtcdClientSettings _settings;
    private readonly TimeProvider _time;
    private readonly EtcdEndpoint[] _endpoints;
    private int _preferred;

    public EtcdObjectStore(EtcdClientSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _time = time ?? TimeProvider.System;
        var tls = settings.Servers.Any(s => s.Scheme == Uri.UriSchemeHttps)
            ? EtcdClientTls.Load(settings.CaFile, settings.CertFile, settings.KeyFile)
            : null;
        _endpoints = settings.Servers.Select(s => new EtcdEndpoint(s, s.Scheme == Uri.UriSchemeHttps ? tls : null, _time)).ToArray();
    }

    public async Task<StoredObject?> GetAsync(string key, CancellationToken ct)
    {
        var response = await CallAsync<EtcdRangeRequest, EtcdRangeResponse>("/v3/kv/range", new EtcdRangeRequest(EtcdKeyRange.Key(key)), ct).ConfigureAwait(false);
        return response.Kvs is [var kv, ..] ? ToStored(kv) : null;
    }

    public async Task<StoredList> ListAsync(string prefix, CancellationToken ct)
    {
        var (key, end) = EtcdKeyRange.Prefix(prefix);
        var response = await CallAsync<EtcdRangeRequest, EtcdRangeResponse>("/v3/kv/range", new EtcdRangeRequest(key, end), ct).ConfigureAwait(false);
        var items = (response.Kvs ?? []).Select(ToStored).ToList();
        return new StoredList(items, response.Header.Revision);
    }

    public async Task<StoredPage> ListPageAsync(string prefix, string? startKey, long limit, long atRevision, CancellationToken ct)
    {
        var (key, end) = EtcdKeyRange.Prefix(prefix);
        if (startKey is not null) key = EtcdKeyRange.Key(startKey);
        var response = await CallAsync<EtcdRangeRequest, EtcdRangeResponse>("/v3/kv/range", new EtcdRangeRequest(key, end, limit, atRevision), ct).ConfigureAwait(false);
        var items = (response.Kvs ?? []).Select(ToStored).ToList();
        return new StoredPage(items, atRevision > 0 ? atRevision : response.Header.Revision, response.More, response.Count);
    }

    public async Task<StoredObject> CreateAsync(string key, byte[] value, CancellationToken ct)
    {
        var k = EtcdKeyRange.Key(key);
        var txn = new EtcdTxnRequest(
            [new EtcdCompare("CREATE", k, CreateRevision: 0)],
            [new EtcdRequestOp(RequestPut: new EtcdPutRequest(k, value))],
            null);
        var response = await TxnAsync(txn, ct).ConfigureAwait(false);
        if (!response.Succeeded) throw new StoreConflictException(key);
        return new StoredObject(key, value, PutRevision(response));
    }

    public async Task<StoredObject> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct)
    {
        var k = EtcdKeyRange.Key(key);
        var txn = new EtcdTxnRequest(
            [new EtcdCompare("MOD", k, ModRevision: expectedRevision)],
            [new EtcdRequestOp(RequestPut: new EtcdPutRequest(k, value))],
            [new EtcdRequestOp(RequestRange: new EtcdRangeRequest(k))]);
        var response = await TxnAsync(txn, ct).ConfigureAwait(false);
        if (!response.Succeeded) throw FailedGuard(key, response);
        return new StoredObject(key, value, PutRevision(response));
    }

    public async Task DeleteAsync(string key, long? expectedRevision, CancellationToken ct)
    {
        var k = EtcdKeyRange.Key(key);
        if (expectedRevision is null)
        {
            var deleted = await CallAsync<EtcdDeleteRangeRequest, EtcdDeleteRangeResponse>("/v3/kv/deleterange", new EtcdDeleteRangeRequest(k), ct).ConfigureAwait(false);
            if (deleted.Deleted == 0) throw new StoreNotFoundException(key);
            return;
        }
        var txn = new EtcdTxnRequest(
            [new EtcdCompare("MOD", k, ModRevision: expectedRevision.Value)],
            [new EtcdRequestOp(RequestDeleteRange: new EtcdDeleteRangeRequest(k))],
            [new EtcdRequestOp(RequestRange: new EtcdRangeRequest(k))]);
        var response = await TxnAsync(txn, ct).ConfigureAwait(false);
        if (!response.Succeeded) throw FailedGuard(key, response);
    }

    /// <summary>
    /// Streams changes under the prefix after <paramref name="afterRevision"/>. A dropped stream is reopened (on the
    /// same or another member) from the revision after the last event seen, so nothing is lost or repeated; a history
    /// already compacted ends the watch with <see cref="WatchRevisionCompactedException"/>, and no member answering
    /// for <see cref="EtcdClientSettings.WatchReconnectWindow"/> ends it with <see cref="StoreUnavailableException"/>.
    /// </summary>
    public async IAsyncEnumerable<StoreEvent> WatchAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        var (key, end) = EtcdKeyRange.Prefix(prefix);
        var next = afterRevision + 1;
        var backoff = TimeSpan.FromMilliseconds(50);
        DateTimeOffset? unreachableSince = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var request = new EtcdWatchRequest(new EtcdWatchCreateRequest(key, end, next, PrevKv: true));
            var (stream, failures) = await OpenWatchAsync(request, ct).ConfigureAwait(false);
            if (stream is null)
            {
                unreachableSince ??= _time.GetUtcNow();
                if (_time.GetUtcNow() - unreachableSince > _settings.WatchReconnectWindow)
                {
                    throw new StoreUnavailableException($"The watch on {prefix} lost etcd and could not resume from revision {next}: {failures}.");
                }
                await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxWatchBackoff.Ticks));
                continue;
            }
            using (stream)
            {
                while (await stream.ReadAsync(ct).ConfigureAwait(false) is { } line)
                {
                    if (line.Result is not { } result) break; // the gateway reports a broken stream as an error line
                    if (result.Canceled)
                    {
                        if (result.CompactRevision > 0) throw new WatchRevisionCompactedException(prefix, next, result.CompactRevision);
                        throw new StoreUnavailableException($"etcd cancelled the watch on {prefix}: {result.CancelReason ?? "no reason given"}.");
                    }
                    unreachableSince = null;
                    backoff = TimeSpan.FromMilliseconds(50);
                    foreach (var e in result.Events ?? [])
                    {
                        next = e.Kv.ModRevision + 1;
                        yield return ToStoreEvent(e);
                    }
                }
            }
            // The stream dropped (member stopped, connection broken): resume from `next`, soon but not in a tight loop.
            unreachableSince ??= _time.GetUtcNow();
            await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxWatchBackoff.Ticks));
        }
    }

    public void Dispose()
    {
        foreach (var e in _endpoints) e.Dispose();
    }

    private async Task<(WatchStream? Stream, string Failures)> OpenWatchAsync(EtcdWatchRequest request, CancellationToken ct)
    {
        var reasons = new List<string>();
        var start = Volatile.Read(ref _preferred);
        for (var i = 0; i < _endpoints.Length; i++)
        {
            var index = (start + i) % _endpoints.Length;
            var endpoint = _endpoints[index];
            var lifetime = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                var response = await endpoint.OpenStreamAsync("/v3/watch", request, _settings.RequestTimeout, lifetime).ConfigureAwait(false);
                Volatile.Write(ref _preferred, index);
                return (new WatchStream(response, lifetime), "");
            }
            catch (EtcdEndpointUnreachableException e) when (!ct.IsCancellationRequested)
            {
                lifetime.Dispose();
                reasons.Add(e.Message);
            }
            catch
            {
                lifetime.Dispose();
                throw;
            }
        }
        return (null, string.Join("; ", reasons));
    }

    private Task<EtcdTxnResponse> TxnAsync(EtcdTxnRequest txn, CancellationToken ct) =>
        CallAsync<EtcdTxnRequest, EtcdTxnResponse>("/v3/kv/txn", txn, ct);

    private async Task<TResponse> CallAsync<TRequest, TResponse>(string path, TRequest request, CancellationToken ct)
    {
        var reasons = new List<string>();
        Exception? last = null;
        var start = Volatile.Read(ref _preferred);
        for (var i = 0; i < _endpoints.Length; i++)
        {
            var index = (start + i) % _endpoints.Length;
            try
            {
                var response = await _endpoints[index].PostAsync<TRequest, TResponse>(path, request, _settings.RequestTimeout, ct).ConfigureAwait(false);
                Volatile.Write(ref _preferred, index);
                return response;
            }
            catch (EtcdEndpointUnreachableException e)
            {
                reasons.Add(e.Message);
                last = e.InnerException ?? e;
            }
        }
        throw new StoreUnavailableException(
            reasons.Count == 1 ? reasons[0] + "." : $"No etcd member could serve the request: {string.Join("; ", reasons)}.",
            last);
    }

    private static StoredObject ToStored(EtcdKeyValue kv) =>
        new(Encoding.UTF8.GetString(kv.Key), kv.Value ?? [], kv.ModRevision);

    private static StoreEvent ToStoreEvent(EtcdEvent e)
    {
        if (!e.IsDelete) return new StoreEvent(StoreEventType.Put, ToStored(e.Kv), Created: e.Kv.CreateRevision == e.Kv.ModRevision);
        // A delete carries the key and the deleting revision; the last value comes from prev_kv.
        var value = e.PrevKv?.Value ?? [];
        return new StoreEvent(StoreEventType.Delete, new StoredObject(Encoding.UTF8.GetString(e.Kv.Key), value, e.Kv.ModRevision), Created: false);
    }

    private static long PutRevision(EtcdTxnResponse response) =>
        response.Responses is [{ ResponsePut: { } put }, ..] ? put.Header.Revision : response.Header.Revision;

    private static Exception FailedGuard(string key, EtcdTxnResponse response) =>
        response.Responses is [{ ResponseRange.Kvs: [_, ..] }, ..]
            ? new StoreConflictException(key)
            : new StoreNotFoundException(key);

    /// <summary>The body of an open watch, read one newline-delimited JSON message at a time.</summary>
    private sealed class WatchStream(HttpResponseMessage response, CancellationTokenSource lifetime) : IDisposable
    {
        private StreamReader? _reader;

        /// <summary>The next message, or null when the stream ended or broke (the caller resumes).</summary>
        public async Task<EtcdWatchLine?> ReadAsync(CancellationToken ct)
        {
            try
            {
                _reader ??= new StreamReader(await response.Content.ReadAsStreamAsync(lifetime.Token).ConfigureAwait(false), Encoding.UTF8);
                while (true)
                {
                    var line = await _reader.ReadLineAsync(lifetime.Token).ConfigureAwait(false);
                    if (line is null) return null;
                    if (line.Length == 0) continue;
                    return System.Text.Json.JsonSerializer.Deserialize<EtcdWatchLine>(line, EtcdWire.Json);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested
                && e is IOException or HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                return null;
            }
        }

        public void Dispose()
        {
            _reader?.Dispose();
            response.Dispose();
            lifetime.Dispose();
        }
    }
}
