namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// The prober's attempts summed per edge over a window. <see cref="TrustFailures"/> (every edge) and
/// <see cref="EndpointFailures"/> (availability failures of the HA endpoint edge) are the two numbers a zero-downtime
/// rotation must keep at 0.
/// </summary>
public sealed record ProbeReport(
    DateTimeOffset? Since, DateTimeOffset? Until,
    int Attempts, int TrustFailures, int EndpointFailures, int AvailabilityFailures,
    IReadOnlyList<EdgeSummary> Edges)
{
    /// <summary>Sums the records with <paramref name="since"/> &lt;= time &lt; <paramref name="until"/> (either bound may be open).</summary>
    public static ProbeReport Build(IEnumerable<ProbeRecord> records, DateTimeOffset? since = null, DateTimeOffset? until = null)
    {
        var window = records.Where(r => (since is null || r.Time >= since) && (until is null || r.Time < until)).ToList();
        var edges = window
            .GroupBy(r => r.Edge)
            .Select(g =>
            {
                var ordered = g.OrderBy(r => r.Time).ToList();
                var failures = ordered.Where(r => !r.Ok).ToList();
                var last = ordered[^1];
                return new EdgeSummary(g.Key, last.Kind, last.Client, last.Server,
                    ordered.Count, ordered.Count(r => r.Ok),
                    failures.Count(r => r.Class == FailureClass.Trust), failures.Count(r => r.Class != FailureClass.Trust),
                    failures.Count > 0 ? Sample(failures[0]) : null, failures.Count > 0 ? Sample(failures[^1]) : null,
                    last.Time, last.Ok);
            })
            .OrderBy(e => e.Kind).ThenBy(e => e.Edge, StringComparer.Ordinal)
            .ToList();
        return new ProbeReport(since, until,
            window.Count,
            window.Count(r => !r.Ok && r.Class == FailureClass.Trust),
            window.Count(r => !r.Ok && r.Kind == EdgeKind.Endpoint && r.Class == FailureClass.Availability),
            window.Count(r => !r.Ok && r.Class == FailureClass.Availability),
            edges);
    }

    private static FailureSample Sample(ProbeRecord r) => new(r.Time, r.Class ?? FailureClass.Availability, r.Error);
}
