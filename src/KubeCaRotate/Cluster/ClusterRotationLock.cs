using System.Globalization;
using System.Text.Json;
using k8s.Models;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// The cluster-wide lock of a rotation run and its public summary, through the rotation's own API connection.
/// The lock is the Lease kube-system/kube-ca-rotate with holderIdentity "&lt;rotationId&gt;@&lt;host&gt;/&lt;pid&gt;", taken by
/// create-or-replace under the resourceVersion just read, so of two runs racing for it exactly one wins (the other's
/// write answers 409 and it reads again). A holder is live until its renewTime + leaseDurationSeconds has passed, or,
/// when it runs on this host, until its process is gone. <paramref name="holderHost"/> and <paramref name="pid"/>
/// default to this machine and process (tests give others to stand for another run).
/// </summary>
public sealed class ClusterRotationLock(RotationApiConnection connection, TimeProvider time, string? holderHost = null, int? pid = null) : IRotationLock
{
    public const string Namespace = "kube-system";
    public const string Name = "kube-ca-rotate";
    public const int LeaseDurationSeconds = 15;
    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(5);

    private const int RaceAttempts = 10;
    private const string ManagedBy = "kube-ca-rotate";

    private readonly string _host = ValidHost(holderHost ?? Environment.MachineName);
    private readonly int _pid = pid ?? Environment.ProcessId;

    /// <summary>The Lease held for <paramref name="rotationId"/>, renewed until disposed (a <see cref="HeldRotationLease"/>).</summary>
    public async Task<IAsyncDisposable> AcquireAsync(string rotationId, CancellationToken ct) =>
        await AcquireLeaseAsync(rotationId, ct).ConfigureAwait(false);

    public async Task<HeldRotationLease> AcquireLeaseAsync(string rotationId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(rotationId) || rotationId.Contains('@') || rotationId.Contains('/'))
            throw new RotationException($"The rotation id '{rotationId}' cannot name a lock holder (it must be non-empty, without '@' or '/'); use the id from the journal.");
        var me = new LeaseHolder(rotationId, _host, _pid);
        for (var attempt = 1; attempt <= RaceAttempts; attempt++)
        {
            var lease = await connection.CallAsync((api, t) => api.GetLeaseAsync(Namespace, Name, t), ct).ConfigureAwait(false);
            var now = time.GetUtcNow();
            V1Lease? written;
            if (lease is null)
            {
                written = await connection.CallAsync((api, t) => api.TryCreateLeaseAsync(NewLease(me, now), t), ct).ConfigureAwait(false);
            }
            else
            {
                var holder = lease.Spec?.HolderIdentity;
                if (!string.IsNullOrEmpty(holder) && holder != me.ToString() && IsLive(lease, now))
                    throw Refusal(lease);
                written = await connection.CallAsync((api, t) => api.TryReplaceLeaseAsync(Taken(lease, me, now), t), ct).ConfigureAwait(false);
            }
            if (written is not null) return new HeldRotationLease(connection, time, me, written);
            // Another writer changed the Lease between our read and our write: read it again.
        }
        throw new RotationException($"The rotation lock Lease {Namespace}/{Name} changed under every one of {RaceAttempts} attempts to take it; another run is starting at the same moment: wait a minute and run again.");
    }

    /// <summary>Creates or replaces the ConfigMap kube-system/kube-ca-rotate with the journal's id, phase, mode, CA fingerprints and progress (no key, no certificate).</summary>
    public async Task PublishSummaryAsync(RotationJournal journal, CancellationToken ct)
    {
        var summary = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = ManagedBy } },
            Data = SummaryData(journal),
        };
        for (var attempt = 1; attempt <= RaceAttempts; attempt++)
        {
            if (await connection.CallAsync((api, t) => api.ReplaceConfigMapAsync(summary, t), ct).ConfigureAwait(false) is not null) return;
            if (await connection.CallAsync((api, t) => api.TryCreateConfigMapAsync(summary, t), ct).ConfigureAwait(false) is not null) return;
        }
        throw new RotationException($"The summary ConfigMap {Namespace}/{Name} was created and deleted under every one of {RaceAttempts} attempts to write it; stop whatever deletes it and run again.");
    }

    /// <summary>The summary's data keys: rotationId, phase, mode, cas, &lt;ca&gt;.oldSha256/newSha256(/crossSignedSha256), finishedSteps, generation, startedAt, updatedAt.</summary>
    public static Dictionary<string, string> SummaryData(RotationJournal journal)
    {
        var data = new Dictionary<string, string>
        {
            ["rotationId"] = journal.RotationId,
            ["phase"] = JsonSerializer.Serialize(journal.Phase).Trim('"'),
            ["mode"] = JsonSerializer.Serialize(journal.Mode).Trim('"'),
            ["cas"] = string.Join(",", journal.Cas.Select(c => RotationPaths.Name(c.Ca))),
            ["finishedSteps"] = journal.FinishedSteps.Count.ToString(CultureInfo.InvariantCulture),
            ["generation"] = journal.Generation.ToString(CultureInfo.InvariantCulture),
            ["startedAt"] = Timestamp(journal.StartedAt),
            ["updatedAt"] = Timestamp(journal.UpdatedAt),
        };
        foreach (var ca in journal.Cas)
        {
            var name = RotationPaths.Name(ca.Ca);
            data[$"{name}.oldSha256"] = ca.OldSha256;
            data[$"{name}.newSha256"] = ca.NewSha256;
            if (ca.CrossSignedSha256 is not null) data[$"{name}.crossSignedSha256"] = ca.CrossSignedSha256;
        }
        return data;
    }

    /// <summary>Whether the Lease's holder still counts: not expired, and not a process of this host that is gone.</summary>
    private bool IsLive(V1Lease lease, DateTimeOffset now)
    {
        if (ExpiresAt(lease) is not { } expires || expires < now) return false;
        return LeaseHolder.Parse(lease.Spec?.HolderIdentity) is not { } holder
            || !string.Equals(holder.Host, _host, StringComparison.OrdinalIgnoreCase)
            || !ProcessIsGone(holder.Pid);
    }

    /// <summary>True only when this machine shows processes under /proc and the pid is not among them.</summary>
    private static bool ProcessIsGone(int pid) =>
        Directory.Exists("/proc/self") && !Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));

    private static RotationException Refusal(V1Lease lease)
    {
        var spec = lease.Spec!;
        var since = At(spec.AcquireTime) ?? At(spec.RenewTime);
        var who = LeaseHolder.Parse(spec.HolderIdentity) is { } h ? $"rotation {h.RotationId} held by {h.Host}/{h.Pid}" : $"held by {spec.HolderIdentity}";
        return new RotationException(
            $"Another run holds the rotation lock Lease {Namespace}/{Name}: {who}{(since is null ? "" : " since " + Timestamp(since.Value))}; wait for it or, if that process is gone, run again after the lease expires at {Timestamp(ExpiresAt(lease)!.Value)}.");
    }

    private static DateTimeOffset? ExpiresAt(V1Lease lease) =>
        (At(lease.Spec?.RenewTime) ?? At(lease.Spec?.AcquireTime)) is { } renewed
            ? renewed.AddSeconds(lease.Spec?.LeaseDurationSeconds ?? LeaseDurationSeconds)
            : null;

    internal static V1Lease NewLease(LeaseHolder holder, DateTimeOffset now) => new()
    {
        ApiVersion = "coordination.k8s.io/v1",
        Kind = "Lease",
        Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = ManagedBy } },
        Spec = new V1LeaseSpec
        {
            HolderIdentity = holder.ToString(),
            LeaseDurationSeconds = LeaseDurationSeconds,
            AcquireTime = now.UtcDateTime,
            RenewTime = now.UtcDateTime,
            LeaseTransitions = 0,
        },
    };

    /// <summary>The Lease as read, taken by <paramref name="holder"/> (a new holder counts a transition), under the resourceVersion read.</summary>
    private static V1Lease Taken(V1Lease current, LeaseHolder holder, DateTimeOffset now)
    {
        var same = current.Spec?.HolderIdentity == holder.ToString();
        return Copy(current, new V1LeaseSpec
        {
            HolderIdentity = holder.ToString(),
            LeaseDurationSeconds = LeaseDurationSeconds,
            AcquireTime = same ? current.Spec?.AcquireTime ?? now.UtcDateTime : now.UtcDateTime,
            RenewTime = now.UtcDateTime,
            LeaseTransitions = (current.Spec?.LeaseTransitions ?? 0) + (same ? 0 : 1),
        });
    }

    internal static V1Lease Renewed(V1Lease current, DateTimeOffset now) => Copy(current, new V1LeaseSpec
    {
        HolderIdentity = current.Spec?.HolderIdentity,
        LeaseDurationSeconds = current.Spec?.LeaseDurationSeconds ?? LeaseDurationSeconds,
        AcquireTime = current.Spec?.AcquireTime,
        RenewTime = now.UtcDateTime,
        LeaseTransitions = current.Spec?.LeaseTransitions,
    });

    /// <summary>The Lease with no holder: the next run takes it at once.</summary>
    internal static V1Lease Released(V1Lease current, DateTimeOffset now) => Copy(current, new V1LeaseSpec
    {
        LeaseDurationSeconds = current.Spec?.LeaseDurationSeconds ?? LeaseDurationSeconds,
        RenewTime = now.UtcDateTime,
        LeaseTransitions = current.Spec?.LeaseTransitions,
    });

    private static V1Lease Copy(V1Lease current, V1LeaseSpec spec) => new()
    {
        ApiVersion = "coordination.k8s.io/v1",
        Kind = "Lease",
        Metadata = new V1ObjectMeta
        {
            Name = Name,
            NamespaceProperty = Namespace,
            ResourceVersion = current.Metadata?.ResourceVersion,
            Labels = current.Metadata?.Labels,
            Annotations = current.Metadata?.Annotations,
        },
        Spec = spec,
    };

    private static DateTimeOffset? At(DateTime? t) => t switch
    {
        null => null,
        { Kind: DateTimeKind.Local } local => new DateTimeOffset(local.ToUniversalTime(), TimeSpan.Zero),
        { } other => new DateTimeOffset(DateTime.SpecifyKind(other, DateTimeKind.Utc), TimeSpan.Zero),
    };

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string ValidHost(string host) =>
        host.Length > 0 && !host.Contains('/') && !host.Contains('@')
            ? host
            : throw new ArgumentException($"The host name '{host}' cannot name a lock holder (it must be non-empty, without '/' or '@').", nameof(holderHost));
}
