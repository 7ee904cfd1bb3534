using System.Globalization;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// client-go's Lease lock: a coordination.k8s.io/v1 Lease whose holder acts and renews it every retry period. Another
/// candidate takes over when it has seen the same record unchanged for a whole lease duration (measured on its own
/// clock, as client-go does, so clocks need not agree) or when the holder released it. The holder stops leading when it
/// could not renew within the renew deadline. <see cref="IsLeader"/> is what the controllers check before acting.
/// </summary>
public sealed class LeaderElection(KubeconfigClient client, string ns, string name, string identity, LeaderElectionSettings settings, TimeProvider time, TextWriter log)
{
    private string? _observedRecord;
    private DateTimeOffset _observedAt;
    private DateTimeOffset _lastRenew = DateTimeOffset.MinValue;
    private volatile bool _leading;

    public string Identity { get; } = identity;

    private string Path => $"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}";

    /// <summary>True while this process holds the lease and renewed it within the renew deadline.</summary>
    public bool IsLeader => !settings.Enabled || (_leading && time.GetUtcNow() - _lastRenew < settings.RenewDeadline);

    /// <summary>Tries to acquire or renew every retry period until cancelled; then releases the lease if held.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (!settings.Enabled)
            return;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await TryAcquireOrRenewAsync(ct).ConfigureAwait(false);
                await Task.Delay(settings.RetryPeriod, time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await ReleaseAsync().ConfigureAwait(false);
    }

    public async Task TryAcquireOrRenewAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        try
        {
            var lease = await client.GetAsync(Path, ct).ConfigureAwait(false);
            if (lease is null)
            {
                await client.CreateAsync($"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", NewLease(now, 0, now), ct).ConfigureAwait(false);
                Became(now, "acquired");
                return;
            }
            var spec = lease["spec"] as JsonObject ?? new JsonObject();
            var holder = spec["holderIdentity"]?.GetValue<string>() ?? "";
            var record = spec.ToJsonString();
            if (record != _observedRecord)
            {
                _observedRecord = record;
                _observedAt = now;
            }
            var durationSeconds = spec["leaseDurationSeconds"]?.GetValue<int>() ?? (int)settings.LeaseDuration.TotalSeconds;
            var transitions = spec["leaseTransitions"]?.GetValue<int>() ?? 0;
            if (holder == Identity)
            {
                var acquired = spec["acquireTime"]?.GetValue<string>();
                var renewed = NewLease(now, transitions, acquired is null ? now : DateTimeOffset.Parse(acquired, CultureInfo.InvariantCulture));
                renewed["metadata"]!["resourceVersion"] = lease["metadata"]?["resourceVersion"]?.GetValue<string>();
                await client.ReplaceAsync(Path, renewed, ct).ConfigureAwait(false);
                Became(now, null);
                return;
            }
            var expired = holder.Length == 0 || now - _observedAt >= TimeSpan.FromSeconds(durationSeconds);
            if (!expired)
            {
                Lost($"the lease is held by {holder}");
                return;
            }
            var taken = NewLease(now, transitions + 1, now);
            taken["metadata"]!["resourceVersion"] = lease["metadata"]?["resourceVersion"]?.GetValue<string>();
            await client.ReplaceAsync(Path, taken, ct).ConfigureAwait(false);
            Became(now, holder.Length == 0 ? "acquired (released by its holder)" : $"acquired (taken over from {holder})");
        }
        catch (ApiCallException e)
        {
            // a conflict means another candidate won the race; anything else is a failed renewal
            if (_leading && time.GetUtcNow() - _lastRenew >= settings.RenewDeadline)
                Lost($"renewal failed: {e.Message}");
        }
    }

    private void Became(DateTimeOffset now, string? how)
    {
        _lastRenew = now;
        if (!_leading && how is not null)
            log.WriteLine($"{now:O} leader election: {Identity} {how} lease {ns}/{name}");
        _leading = true;
    }

    private void Lost(string why)
    {
        if (_leading)
            log.WriteLine($"{time.GetUtcNow():O} leader election: {Identity} lost lease {ns}/{name}: {why}");
        _leading = false;
    }

    private async Task ReleaseAsync()
    {
        if (!_leading)
            return;
        _leading = false;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            var lease = await client.GetAsync(Path, timeout.Token).ConfigureAwait(false);
            if (lease?["spec"]?["holderIdentity"]?.GetValue<string>() != Identity)
                return;
            // client-go's ReleaseOnCancel: an empty holder and a 1 s lease so that the next candidate takes over at once
            var spec = (JsonObject)lease["spec"]!;
            spec["holderIdentity"] = "";
            spec["leaseDurationSeconds"] = 1;
            await client.ReplaceAsync(Path, lease, timeout.Token).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} leader election: {Identity} released lease {ns}/{name}");
        }
        catch (Exception e) when (e is ApiCallException or OperationCanceledException)
        {
        }
    }

    private JsonObject NewLease(DateTimeOffset now, int transitions, DateTimeOffset acquired) => new()
    {
        ["apiVersion"] = "coordination.k8s.io/v1",
        ["kind"] = "Lease",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["spec"] = new JsonObject
        {
            ["holderIdentity"] = Identity,
            ["leaseDurationSeconds"] = (int)Math.Ceiling(settings.LeaseDuration.TotalSeconds),
            ["acquireTime"] = MicroTime(acquired),
            ["renewTime"] = MicroTime(now),
            ["leaseTransitions"] = transitions,
        },
    };

    private static string MicroTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
