using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Prober;

namespace KubeCaRotate.Lab.Tests.Kubelet;

public partial class KubeletTests
{
    private sealed record KubectlAttempt(DateTimeOffset StartedAt, ProcessRun Run);

    /// <summary>
    /// As containerd keeps a pod's containers running while the kubelet restarts, the lab-aggregator pod's container
    /// (a process of its own) keeps serving through `lab restart-kubelet` of its node, and the new kubelet adopts it:
    /// same process, same port; the API servers' edges to it never fail, and kubectl reaches the aggregated API
    /// through the HA endpoint throughout.
    /// </summary>
    [Fact]
    public async Task Restarting_the_kubelet_keeps_the_aggregated_api_server_pod_serving_from_the_same_process()
    {
        var lab = fixture.Lab;
        const string groupVersion = $"/apis/{AggregatorNames.Group}/{AggregatorNames.Version}";
        await fixture.WaitApiReadyAsync();

        // The running aggregator pod, as its kubelet published it in the Service's Endpoints.
        var address = await KubeletLabFixture.EventuallyAsync(async () =>
        {
            var (status, endpoints) = await fixture.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{AggregatorNames.Namespace}/endpoints/{AggregatorNames.Name}");
            return status == 200 ? endpoints?["subsets"]?[0]?["addresses"]?[0] as JsonObject : null;
        }, "the lab-aggregator Endpoints to name a running pod", 180);
        var node = address["nodeName"]!.GetValue<string>();
        var pod = address["targetRef"]!["name"]!.GetValue<string>();
        var stateFile = Path.Combine(WorkloadPods.StateDir(lab, node), WorkloadPodState.FileName(AggregatorNames.Namespace, pod));
        var pidFile = AggregatorContainer.PidFile(lab, node, AggregatorNames.Namespace, pod);
        ProcessIdentity? Container() => File.Exists(pidFile) ? ProcessIdentity.ParsePidFile(pidFile, File.ReadAllText(pidFile)) : null;

        // Every API server's edge to it answers before the restart.
        var watch = new ProbeWatch(lab);
        var warm = DateTimeOffset.UtcNow;
        await ProbeWatch.UntilAsync("an ok attempt on every aggregator edge", () =>
            watch.Since(warm).Where(r => r.Kind == EdgeKind.Aggregator).GroupBy(r => r.Edge).Count(g => g.Any(r => r.Ok)) >= lab.ControlPlanes.Count());
        var before = Container();
        var portBefore = WorkloadPodState.Read(stateFile)?.ServingPort;
        var kubeletBefore = KubeletState.Read(lab.RunDir, node)!.Pid;

        // kubectl asks for the aggregated group/version through the HA endpoint, over and over, while the kubelet restarts.
        var since = DateTimeOffset.UtcNow;
        using var stop = new CancellationTokenSource();
        var attempts = new List<KubectlAttempt>();
        var asking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var startedAt = DateTimeOffset.UtcNow;
                var run = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.AdminKubeconfig, "get", "--raw", groupVersion, "--request-timeout=30s"]);
                lock (attempts) attempts.Add(new KubectlAttempt(startedAt, run));
                await Task.Delay(200);
            }
        });
        var restart = await Cli("lab", "restart-kubelet", "--dir", lab.Dir, "--node", node);
        var restarted = DateTimeOffset.UtcNow;
        await watch.RoundsAsync(restarted, 3);
        await stop.CancelAsync();
        await asking;
        restart.EnsureSuccess();
        Assert.NotEqual(kubeletBefore, KubeletState.Read(lab.RunDir, node)!.Pid);

        var aggregatorRecords = watch.Since(since).Where(r => r.Kind == EdgeKind.Aggregator).ToList();
        Assert.Contains(aggregatorRecords, r => r.Time > restarted);
        var failed = aggregatorRecords.Where(r => !r.Ok).ToList();
        Assert.True(failed.Count == 0, $"the API servers' edges to the aggregated API server failed while the kubelet of {node} restarted:\n{ProbeWatch.Describe(failed)}");

        Assert.Contains(attempts, a => a.StartedAt < restarted);
        Assert.Contains(attempts, a => a.StartedAt > restarted);
        var refused = attempts.Where(a => a.Run.ExitCode != 0).ToList();
        Assert.True(refused.Count == 0, $"kubectl get --raw {groupVersion} failed {refused.Count} of {attempts.Count} times, e.g. at {refused.FirstOrDefault()?.StartedAt:O}: {refused.FirstOrDefault()?.Run.Stderr}");
        Assert.All(attempts, a => Assert.Contains($"\"groupVersion\":\"{AggregatorNames.Group}/{AggregatorNames.Version}\"", a.Run.Stdout));

        // The new kubelet adopted the container: the same process serves on the same port.
        Assert.NotNull(before);
        Assert.Equal(before, Container());
        Assert.True(before.IsAlive(), $"the container of {AggregatorNames.Namespace}/{pod} (pid {before.Pid}) should still run after the kubelet restart");
        Assert.Equal(portBefore, WorkloadPodState.Read(stateFile)?.ServingPort);
    }
}
