using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Tests.Control;

namespace KubeCaRotate.Lab.Tests.Prober;

/// <summary>A healthy lab: the prober started by lab up finds every edge that exists and records only successes on them.</summary>
public class HealthyLabProbeTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    [Fact]
    public async Task A_healthy_lab_records_only_ok_attempts_on_every_edge_that_exists()
    {
        var lab = fixture.Lab;
        var watch = new ProbeWatch(lab);
        // Components that start after lab up (kubelets, pods, the aggregated API server) get edges within the prober's discovery interval.
        await ProbeWatch.UntilAsync("the edges to the aggregated API server", () => watch.Since(DateTimeOffset.UtcNow.AddSeconds(-5)).Any(r => r.Kind == EdgeKind.Aggregator));
        await Task.Delay(TimeSpan.FromSeconds(6));
        var since = DateTimeOffset.UtcNow;
        var records = await watch.RoundsAsync(since, rounds: 3);

        var failures = records.Where(r => !r.Ok).ToList();
        Assert.True(failures.Count == 0, $"A healthy lab recorded {failures.Count} failures:\n{ProbeWatch.Describe(failures)}");

        var edges = records.Select(r => r.Edge).ToHashSet();
        var controlPlanes = lab.ControlPlanes.Select(n => n.Name).ToList();
        foreach (var cp in controlPlanes)
        {
            Assert.Contains($"admin->{cp}/kube-apiserver", edges);
            Assert.Contains($"{cp}/kube-apiserver->{cp}/etcd", edges);
            foreach (var peer in controlPlanes.Where(p => p != cp)) Assert.Contains($"{cp}/etcd->{peer}/etcd", edges);
        }
        Assert.Contains("admin->endpoint", edges);
        // Every API server reaches the aggregated API server found through its APIService, with its front-proxy client certificate.
        foreach (var cp in controlPlanes) Assert.Contains($"{cp}/kube-apiserver->lab-aggregator.kube-system.svc", edges);
        Assert.All(records.Where(r => r.Kind == EdgeKind.Endpoint), r => Assert.Equal("endpoint", r.Server));
        Assert.All(records.Where(r => r.Kind is not (EdgeKind.EtcdClient or EdgeKind.EtcdPeer or EdgeKind.KubeletApi)), r => Assert.Equal(200, r.Status));

        // Edges whose components run today: a kubelet that loaded kubelet.conf talks to the endpoint and is reached by every API server.
        foreach (var node in lab.Nodes.Where(n => Directory.Exists(Path.Combine(lab.RunDir, n.Name, "loaded", "kubelet"))))
        {
            Assert.Contains($"{node.Name}/kubelet->endpoint", edges);
            foreach (var cp in controlPlanes) Assert.Contains($"{cp}/kube-apiserver->{node.Name}/kubelet", edges);
        }
    }

    [Fact]
    public async Task Lab_report_json_sums_the_window_it_is_given()
    {
        var lab = fixture.Lab;
        var watch = new ProbeWatch(lab);
        var since = DateTimeOffset.UtcNow;
        await watch.RoundsAsync(since, rounds: 2);
        var until = DateTimeOffset.UtcNow;
        var report = await ReportRun.JsonAsync(lab.Dir, since, until);

        var lines = ReportRun.RawLines(lab.Dir, since, until);
        Assert.Equal(lines.Count, report.GetProperty("attempts").GetInt32());
        Assert.Equal(0, report.GetProperty("trustFailures").GetInt32());
        Assert.Equal(0, report.GetProperty("endpointFailures").GetInt32());
        foreach (var edge in report.GetProperty("edges").EnumerateArray())
        {
            var id = edge.GetProperty("edge").GetString()!;
            Assert.Equal(lines.Count(l => l.GetProperty("edge").GetString() == id), edge.GetProperty("attempts").GetInt32());
            Assert.Equal(edge.GetProperty("attempts").GetInt32(), edge.GetProperty("ok").GetInt32());
        }
    }
}
