using k8s.Models;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// The rotation lock while this run holds it: renews the Lease every <see cref="ClusterRotationLock.RenewInterval"/>
/// in the background until disposed, then releases it (clears its holder). If another run took the Lease over (this
/// one could not renew it in time), renewing stops and <see cref="Lost"/> is cancelled.
/// </summary>
public sealed class HeldRotationLease : IAsyncDisposable
{
    private readonly RotationApiConnection _connection;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _renewing;
    private V1Lease _lease;
    private int _disposed;

    internal HeldRotationLease(RotationApiConnection connection, TimeProvider time, LeaseHolder holder, V1Lease lease)
    {
        _connection = connection;
        _time = time;
        Holder = holder;
        _lease = lease;
        _renewing = Task.Run(() => RenewLoopAsync(_stop.Token));
    }

    public LeaseHolder Holder { get; }

    /// <summary>Cancelled when another run took the Lease over; the rotation should stop.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Who took the Lease over, when <see cref="Lost"/> is cancelled.</summary>
    public string? LostReason { get; private set; }

    /// <summary>The last renewal that failed (the API unreachable), cleared by the next one that works.</summary>
    public Exception? LastRenewFailure { get; private set; }

    private async Task RenewLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && !_lost.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ClusterRotationLock.RenewInterval, _time, stop).ConfigureAwait(false);
                await RenewAsync(stop).ConfigureAwait(false);
                LastRenewFailure = null;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Keep trying: the API may be restarting during the rotation; the Lease only expires after 15 s without renewal.
                LastRenewFailure = e;
            }
        }
    }

    private async Task RenewAsync(CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = _time.GetUtcNow();
            var written = await _connection.CallAsync((api, t) => api.TryReplaceLeaseAsync(ClusterRotationLock.Renewed(_lease, now), t), ct).ConfigureAwait(false);
            if (written is not null)
            {
                _lease = written;
                return;
            }
            var current = await _connection.CallAsync((api, t) => api.GetLeaseAsync(ClusterRotationLock.Namespace, ClusterRotationLock.Name, t), ct).ConfigureAwait(false);
            if (current is null)
            {
                // Someone deleted the Lease while this run holds it: put it back.
                written = await _connection.CallAsync((api, t) => api.TryCreateLeaseAsync(ClusterRotationLock.NewLease(Holder, now), t), ct).ConfigureAwait(false);
                if (written is not null)
                {
                    _lease = written;
                    return;
                }
                continue;
            }
            if (current.Spec?.HolderIdentity != Holder.ToString())
            {
                LostReason = $"the rotation lock Lease {ClusterRotationLock.Namespace}/{ClusterRotationLock.Name} was taken over by {(string.IsNullOrEmpty(current.Spec?.HolderIdentity) ? "nobody (it was released)" : current.Spec!.HolderIdentity)}";
                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }
            _lease = current;
        }
    }

    /// <summary>Stops renewing and releases the Lease if this run still holds it; when the API cannot be reached, the Lease expires by itself after its duration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        if (_lost.IsCancellationRequested) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
        try
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var current = await _connection.CallAsync((api, t) => api.GetLeaseAsync(ClusterRotationLock.Namespace, ClusterRotationLock.Name, t), timeout.Token).ConfigureAwait(false);
                if (current is null || current.Spec?.HolderIdentity != Holder.ToString()) return;
                if (await _connection.CallAsync((api, t) => api.TryReplaceLeaseAsync(ClusterRotationLock.Released(current, _time.GetUtcNow()), t), timeout.Token).ConfigureAwait(false) is not null) return;
            }
        }
        catch (Exception e) when (e is ClusterApiException or RotationException or OperationCanceledException)
        {
            // Not released: it expires LeaseDuration after the last renewal.
        }
    }
}
