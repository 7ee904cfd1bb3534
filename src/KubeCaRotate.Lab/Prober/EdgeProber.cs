using System.Security.Cryptography;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// The lab's prober: every <see cref="Interval"/> it opens each trust edge of the cluster once (a fresh TLS handshake
/// and a small request, with the credentials and trust the owning component has loaded) and appends one line per
/// attempt to DIR/probe.jsonl. Edges are discovered again from the node files every <see cref="DiscoveryInterval"/>, so
/// components that start later are probed from then on, and the aggregated API servers' through the API every round. Workload pods can be many: each round takes the next
/// <see cref="PodEdgesPerRound"/> of them in turn, so every pod is still probed, less often.
/// </summary>
public sealed class EdgeProber(LabTopology lab, TimeProvider time, TextWriter log)
{
    private readonly CredentialCache _credentials = new();
    private readonly TlsProbe _probe = new(time);
    private int _nextPod;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan DiscoveryInterval { get; init; } = TimeSpan.FromSeconds(5);

    public int PodEdgesPerRound { get; init; } = 10;

    public int Concurrency { get; init; } = 8;

    public ProbeLog Log { get; } = ProbeLog.Of(lab);

    public async Task RunAsync(CancellationToken ct)
    {
        var discovery = new EdgeDiscovery(lab);
        using var aggregators = new AggregatorEdgeDiscovery(lab, discovery);
        IReadOnlyList<TrustEdge> edges = [], fromFiles = [];
        var discoveredAt = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(Interval, time);
        log.WriteLine($"{time.GetUtcNow():O} prober writing to {Log.Path} every {Interval.TotalSeconds:0.##} s");
        do
        {
            if (time.GetUtcNow() - discoveredAt >= DiscoveryInterval)
            {
                fromFiles = discovery.Discover();
                discoveredAt = time.GetUtcNow();
            }
            // kube-aggregator follows its Services' Endpoints by watch, so it stops sending to a pod a rollout took out
            // at once; looked up every DiscoveryInterval, the prober kept probing such a pod for up to 5 s after it
            // stopped (a whole-suite run: one refused connection 9 s after the announced windows of a 1 + 1 rotation).
            IReadOnlyList<TrustEdge> found = [.. fromFiles, .. await aggregators.DiscoverAsync(ct).ConfigureAwait(false)];
            if (found.Count != edges.Count) log.WriteLine($"{time.GetUtcNow():O} probing {found.Count} edges");
            edges = found;
            var records = await ProbeRoundAsync(edges, ct).ConfigureAwait(false);
            await Log.AppendAsync(records, CancellationToken.None).ConfigureAwait(false);
        }
        while (await Tick(timer, ct).ConfigureAwait(false));
    }

    /// <summary>One round: every edge but the pods, and the next pods in turn; records in time order.</summary>
    public async Task<IReadOnlyList<ProbeRecord>> ProbeRoundAsync(IReadOnlyList<TrustEdge> edges, CancellationToken ct)
    {
        var pods = edges.Where(e => e.Kind == EdgeKind.Pod).ToList();
        var chosen = edges.Where(e => e.Kind != EdgeKind.Pod).ToList();
        for (var i = 0; i < Math.Min(PodEdgesPerRound, pods.Count); i++) chosen.Add(pods[(_nextPod + i) % pods.Count]);
        if (pods.Count > 0) _nextPod = (_nextPod + PodEdgesPerRound) % pods.Count;
        var records = new ProbeRecord[chosen.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, chosen.Count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = ct },
            async (i, token) => records[i] = await ProbeAsync(chosen[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        return records.OrderBy(r => r.Time).ToList();
    }

    public async Task<ProbeRecord> ProbeAsync(TrustEdge edge, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var started = time.GetTimestamp();
        ProbeOutcome outcome;
        try
        {
            outcome = await _probe.RunAsync(edge, _credentials.Load(edge.Credentials), ct).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is DirectoryNotFoundException or FileNotFoundException || e.InnerException is DirectoryNotFoundException or FileNotFoundException) && e.Message.Contains($"{Path.DirectorySeparatorChar}loaded{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        {
            // What a component loaded at start is gone: the component (a pod being replaced, a static pod restarting) is not running.
            outcome = ProbeOutcome.Unavailable($"{edge.Client} is not running (what it loaded at start is gone: {e.Message})");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or CryptographicException or InvalidOperationException or KubeCaRotate.Pki.PkiException or KubeCaRotate.Layout.LayoutFormatException)
        {
            // A client that cannot load its own credentials cannot connect: that is a trust failure of this edge.
            outcome = ProbeOutcome.Trust($"{edge.Client} cannot load its credentials: {e.Message}");
        }
        return new ProbeRecord
        {
            Time = at, Edge = edge.Id, Kind = edge.Kind, Client = edge.Client, Server = edge.Server, Url = edge.Url.ToString(),
            Ok = outcome.Ok, LatencyMs = Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 2),
            Status = outcome.Status, Class = outcome.Class, Error = outcome.Error,
        };
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
