using k8s;
using k8s.Models;
using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Nodes;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>The restart observer on a real lab: static pods restarted by a manifest annotation, and `lab restart-kubelet`.</summary>
[Collection("waits lab")]
public sealed class RestartObserverTests(WaitsLab lab)
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(3);

    private ClusterRestartObserver Observer(TimeSpan timeout) => new(lab.Connection, lab.Nodes, lab.Paths, TimeProvider.System, timeout);

    [Theory]
    [InlineData("cp-2", "kube-apiserver")]
    [InlineData("cp-3", "etcd")]
    [InlineData("cp-1", "kube-controller-manager")]
    public async Task A_static_pod_restarted_by_a_manifest_annotation_is_seen_back(string node, string component)
    {
        var access = lab.Nodes[node].Access;
        var manifestPath = $"{lab.Paths.Kubeadm.ManifestsDir}/{component}.yaml";
        var pidBefore = lab.StaticPodPid(node, component);
        Assert.NotNull(pidBefore);

        var after = TimeProvider.System.GetUtcNow();
        var manifest = await access.ReadFileAsync(manifestPath);
        var restarted = TrustStoreEdits.ManifestAnnotation(manifest!, FileStep.RestartAnnotation, $"test/{Guid.NewGuid():N}", $"{node}:{manifestPath}");
        await access.WriteFileAsync(manifestPath, restarted, FileModes.Private);

        await Observer(Generous).WaitStaticPodRestartedAsync(node, component, after, CancellationToken.None);

        // What the observer saw is what happened: a new process, and a mirror pod that says it started after the change.
        Assert.NotEqual(pidBefore, lab.StaticPodPid(node, component));
        var api = await lab.Connection.GetAsync(CancellationToken.None);
        var mirror = MirrorPodStart.From(await api.Client.CoreV1.ReadNamespacedPodAsync($"{component}-{node}", "kube-system"));
        Assert.True(mirror.StartedAfter(after), mirror.Describe(after));
        Assert.True(mirror.Ready);
    }

    [Fact]
    public async Task A_static_pod_that_was_not_restarted_fails_the_wait_naming_node_component_and_start()
    {
        var after = TimeProvider.System.GetUtcNow();
        var e = await Assert.ThrowsAsync<RotationException>(() => Observer(TimeSpan.FromSeconds(3)).WaitStaticPodRestartedAsync("cp-1", "etcd", after, CancellationToken.None));

        Assert.Contains("etcd on cp-1 did not come back", e.Message);
        Assert.Contains("mirror pod kube-system/etcd-cp-1 still started at ", e.Message);
        Assert.Contains($"before the change at {ApiTime.Millis(after)}", e.Message);
        Assert.Contains("kubelet", e.Message);
    }

    [Fact]
    public async Task A_kubelet_restarted_with_the_inventory_command_is_seen_back()
    {
        var node = lab.Nodes["worker-2"];
        var pidBefore = KubeletState.Read(lab.Lab.RunDir, node.Name)!.Pid;

        var after = TimeProvider.System.GetUtcNow();
        var result = await node.Access.RunAsync(node.RestartKubelet);
        Assert.True(result.Succeeded, result.StandardError + result.StandardOutput);
        await Observer(Generous).WaitKubeletRestartedAsync(node.Name, after, CancellationToken.None);

        var now = KubeletState.Read(lab.Lab.RunDir, node.Name)!;
        Assert.NotEqual(pidBefore, now.Pid);
        Assert.True(now.StartedAt >= after);
    }

    [Fact]
    public async Task A_kubelet_that_has_not_reported_since_the_restart_fails_the_wait_with_a_sentence()
    {
        // A restart "an hour from now": no heartbeat of the node can be from after it.
        var after = TimeProvider.System.GetUtcNow().AddHours(1);
        var e = await Assert.ThrowsAsync<RotationException>(() => Observer(TimeSpan.FromSeconds(2)).WaitKubeletRestartedAsync("worker-1", after, CancellationToken.None));

        Assert.Contains("The kubelet on worker-1 did not come back", e.Message);
        Assert.Contains("Node worker-1 last reported Ready at ", e.Message);
        Assert.Contains("journalctl -u kubelet", e.Message);
    }

    [Fact]
    public async Task An_unknown_node_is_refused_at_once()
    {
        var e = await Assert.ThrowsAsync<RotationException>(() => Observer(Generous).WaitKubeletRestartedAsync("cp-9", DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Contains("There is no node cp-9", e.Message);
    }
}

/// <summary>When a mirror pod counts as started after a change, given that the API has its start only in whole seconds.</summary>
public sealed class MirrorPodStartTests
{
    private static readonly DateTimeOffset Change = new(2026, 3, 1, 6, 12, 0, 400, TimeSpan.Zero);

    private static V1Pod Pod(DateTime started, string? seen, bool ready = true) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "etcd-cp-2", NamespaceProperty = "kube-system",
            Annotations = seen is null ? null : new Dictionary<string, string> { [MirrorPodStart.SeenAnnotation] = seen },
        },
        Status = new V1PodStatus
        {
            Phase = "Running",
            StartTime = started,
            Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            ContainerStatuses = [new V1ContainerStatus { Name = "etcd", Image = "etcd", ImageID = "", Ready = ready, RestartCount = 0, State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = started } } }],
        },
    };

    [Fact]
    public void A_start_in_a_later_second_is_after_the_change()
    {
        var pod = MirrorPodStart.From(Pod(new DateTime(2026, 3, 1, 6, 12, 1, DateTimeKind.Utc), null));
        Assert.True(pod.StartedAfter(Change));
        Assert.Contains("restarted at 06:12:01Z and is Ready", pod.Describe(Change));
    }

    [Fact]
    public void A_start_in_an_earlier_second_is_before_the_change()
    {
        var pod = MirrorPodStart.From(Pod(new DateTime(2026, 3, 1, 6, 11, 59, DateTimeKind.Utc), "2026-03-01T06:11:58.5Z"));
        Assert.False(pod.StartedAfter(Change));
        Assert.Equal("mirror pod kube-system/etcd-cp-2 still started at 06:11:59Z, before the change at 06:12:00.400Z", pod.Describe(Change));
    }

    [Fact]
    public void A_start_in_the_same_second_counts_only_when_the_kubelet_saw_the_manifest_after_the_change()
    {
        var sameSecond = new DateTime(2026, 3, 1, 6, 12, 0, DateTimeKind.Utc);
        Assert.False(MirrorPodStart.From(Pod(sameSecond, null)).StartedAfter(Change));
        Assert.False(MirrorPodStart.From(Pod(sameSecond, "2026-03-01T06:12:00Z")).StartedAfter(Change));
        Assert.False(MirrorPodStart.From(Pod(sameSecond, "2026-03-01T06:12:00.1Z")).StartedAfter(Change));
        Assert.True(MirrorPodStart.From(Pod(sameSecond, "2026-03-01T06:12:00.412345678Z")).StartedAfter(Change));
        Assert.Contains("the same second as the change", MirrorPodStart.From(Pod(sameSecond, "2026-03-01T06:12:00.1Z")).Describe(Change));
    }

    [Fact]
    public void A_restarted_pod_that_is_not_ready_says_so()
    {
        var pod = MirrorPodStart.From(Pod(new DateTime(2026, 3, 1, 6, 12, 5, DateTimeKind.Utc), null, ready: false));
        Assert.True(pod.StartedAfter(Change));
        Assert.False(pod.Ready);
        Assert.Contains("but is not Ready", pod.Describe(Change));
    }
}
