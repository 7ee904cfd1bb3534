using KubeCaRotate.Cli.Demo;
using KubeCaRotate.Lab.Prober;

namespace KubeCaRotate.Tests.Cli;

/// <summary>The demo's downtime figure: how long every edge of one kind was failing at once.</summary>
public class ProbeDowntimeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 10, 0, 0, TimeSpan.Zero);

    private static ProbeRecord Attempt(int second, EdgeKind kind, string edge, bool ok) => new()
    {
        Time = T0.AddSeconds(second), Edge = edge, Kind = kind, Client = "admin", Server = edge, Url = "https://127.0.0.10:6443/api",
        Ok = ok, LatencyMs = 1, Class = ok ? null : FailureClass.Availability,
    };

    [Fact]
    public void One_api_server_restarting_while_the_others_answer_is_no_downtime()
    {
        var records = Enumerable.Range(0, 10).SelectMany(s => new[]
        {
            Attempt(s, EdgeKind.Admin, "admin->cp-1/kube-apiserver", ok: s is < 3 or > 6),
            Attempt(s, EdgeKind.Admin, "admin->cp-2/kube-apiserver", ok: true),
            Attempt(s, EdgeKind.Endpoint, "admin->endpoint", ok: true),
        });
        var downtime = ProbeDowntime.Measure(records);
        Assert.Equal(TimeSpan.Zero, downtime.Longest);
        Assert.Null(downtime.Kind);
    }

    [Fact]
    public void The_longest_interval_every_edge_of_a_kind_failed_is_the_downtime()
    {
        var records = Enumerable.Range(0, 20).SelectMany(s => new[]
        {
            // The endpoint fails at 4 and 5 (answers again at 6), and from 10 to 13 (answers again at 14).
            Attempt(s, EdgeKind.Endpoint, "admin->endpoint", ok: s is not (4 or 5 or (>= 10 and <= 13))),
            Attempt(s, EdgeKind.Kubelet, "worker-1/kubelet->endpoint", ok: s != 15),
            Attempt(s, EdgeKind.Kubelet, "worker-2/kubelet->endpoint", ok: true),
        });
        var downtime = ProbeDowntime.Measure(records);
        Assert.Equal(TimeSpan.FromSeconds(4), downtime.Longest);
        Assert.Equal(EdgeKind.Endpoint, downtime.Kind);
        Assert.Equal(T0.AddSeconds(10), downtime.From);

        var sinceTheFirstOutage = ProbeDowntime.Measure(records, until: T0.AddSeconds(8));
        Assert.Equal(TimeSpan.FromSeconds(2), sinceTheFirstOutage.Longest);
    }

    [Fact]
    public void A_kind_still_failing_at_the_end_counts_up_to_its_last_attempt()
    {
        var records = Enumerable.Range(0, 10).Select(s => Attempt(s, EdgeKind.Endpoint, "admin->endpoint", ok: s < 7));
        var downtime = ProbeDowntime.Measure(records);
        Assert.Equal(TimeSpan.FromSeconds(2), downtime.Longest);
    }
}
