using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>
/// Rolling restarts as a rotation does them, on the lab's controller-manager: every workload rolls, its pods are replaced,
/// and the wait ends only once no pod of the old template exists, terminating ones included (they still run).
/// </summary>
[Collection("waits lab")]
public sealed class WorkloadsTests(WaitsLab lab)
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(4);

    private ClusterWorkloads Workloads(TimeSpan? timeout = null) => new(lab.Connection, TimeProvider.System, timeout ?? Generous);

    private async Task<IKubernetes> ClientAsync() => (await lab.Connection.GetAsync(CancellationToken.None)).Client;

    [Fact]
    public async Task A_rollout_restart_of_every_workload_completes_and_replaces_their_pods()
    {
        await EnsureStatefulSetAsync("lab-1", "web", 2, partition: null);
        var workloads = Workloads();
        var all = await workloads.ListAsync(CancellationToken.None);
        Assert.Contains(new WorkloadRef(ClusterWorkloads.Deployment, "kube-system", "coredns"), all);
        Assert.Contains(new WorkloadRef(ClusterWorkloads.DaemonSet, "kube-system", "kube-proxy"), all);
        Assert.Contains(new WorkloadRef(ClusterWorkloads.Deployment, "lab-1", "app"), all);
        Assert.Contains(new WorkloadRef(ClusterWorkloads.Deployment, "lab-2", "app"), all);
        Assert.Contains(new WorkloadRef(ClusterWorkloads.StatefulSet, "lab-1", "web"), all);
        // The StatefulSet must be up before its rollout is judged, or "ready" would be its first start.
        await workloads.WaitRolledOutAsync(new WorkloadRef(ClusterWorkloads.StatefulSet, "lab-1", "web"), CancellationToken.None);

        var podsBefore = await PodsByWorkloadAsync(includeTerminating: false);
        var stamp = $"test/{Guid.NewGuid():N}";
        foreach (var w in all) Assert.False(await workloads.IsRestartedAsync(w, stamp, CancellationToken.None), $"{w} already carries {stamp}");

        foreach (var w in all) Assert.True(await workloads.RestartAsync(w, stamp, CancellationToken.None), $"{w} was not restarted");
        foreach (var w in all) Assert.True(await workloads.IsRestartedAsync(w, stamp, CancellationToken.None), $"{w} does not carry {stamp}");
        // As each wait returns, none of that workload's old pods may still exist or run (a Deployment's last old pods
        // are deleted just as its status turns complete, and then take a while to stop).
        var leftAtReturn = await Task.WhenAll(all.Select(async w =>
        {
            await workloads.WaitRolledOutAsync(w, CancellationToken.None);
            var old = podsBefore.GetValueOrDefault(Key(w)) ?? [];
            var listed = (await (await ClientAsync()).CoreV1.ListNamespacedPodAsync(w.Namespace)).Items.Select(p => p.Metadata.Uid).ToHashSet();
            return old.Where(p => listed.Contains(p.Uid) || RunsOnItsNode(p)).Select(p => $"{w}: {p.Namespace}/{p.Name}").ToList();
        }));
        Assert.Empty(leftAtReturn.SelectMany(l => l));

        // Right after the waits: every pod there (terminating ones too) carries the new template; no old pod is left.
        var podsAfter = await PodsByWorkloadAsync(includeTerminating: true);
        foreach (var w in all)
        {
            var before = podsBefore.GetValueOrDefault(Key(w)) ?? [];
            var after = podsAfter.GetValueOrDefault(Key(w)) ?? [];
            Assert.True(before.Count > 0, $"{w} had no pods before its restart");
            Assert.True(after.Count > 0, $"{w} has no pods after its restart");
            Assert.Empty(before.Select(p => p.Uid).Intersect(after.Select(p => p.Uid)));
            Assert.All(after, p => Assert.Equal(stamp, p.Stamp));
            Assert.All(after, p => Assert.Null(p.DeletionTimestamp));
        }
        var oldPods = podsBefore.Values.SelectMany(p => p).ToList();
        // kubectl agrees: none of the old pods is listed, not even as Terminating.
        var kubectl = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.Lab.AdminKubeconfig, "get", "pods", "--all-namespaces", "-o", "json"]);
        Assert.True(kubectl.ExitCode == 0, kubectl.Stderr);
        var listed = (JsonNode.Parse(kubectl.Stdout)!["items"] as JsonArray ?? []).Select(p => p!["metadata"]!["uid"]!.GetValue<string>()).ToHashSet();
        Assert.Empty(oldPods.Where(p => listed.Contains(p.Uid)).Select(p => $"{p.Namespace}/{p.Name}"));
        // And no kubelet still runs one.
        Assert.Empty(oldPods.Where(RunsOnItsNode).Select(p => $"{p.Namespace}/{p.Name} on {p.Node}"));

        // Restarting again for the same stamp changes nothing: no new generation, no new rollout.
        var coredns = all.Single(w => w.Name == "coredns");
        var generation = (await (await ClientAsync()).AppsV1.ReadNamespacedDeploymentAsync("coredns", "kube-system")).Metadata.Generation;
        Assert.True(await workloads.RestartAsync(coredns, stamp, CancellationToken.None));
        Assert.Equal(generation, (await (await ClientAsync()).AppsV1.ReadNamespacedDeploymentAsync("coredns", "kube-system")).Metadata.Generation);
    }

    [Fact]
    public async Task A_workload_that_is_gone_is_neither_restarted_nor_waited_for()
    {
        var gone = new WorkloadRef(ClusterWorkloads.Deployment, "lab-2", "no-such-deployment");
        Assert.False(await Workloads().RestartAsync(gone, "test/gone", CancellationToken.None));
        Assert.False(await Workloads().IsRestartedAsync(gone, "test/gone", CancellationToken.None));
        await Workloads().WaitRolledOutAsync(gone, CancellationToken.None);
    }

    [Fact]
    public async Task A_partitioned_statefulset_is_refused_at_once_with_what_to_do()
    {
        await EnsureStatefulSetAsync("lab-2", "partitioned", 2, partition: 1);
        try
        {
            var workload = new WorkloadRef(ClusterWorkloads.StatefulSet, "lab-2", "partitioned");
            var e = await Assert.ThrowsAsync<RotationException>(() => Workloads(TimeSpan.FromMinutes(10)).WaitRolledOutAsync(workload, CancellationToken.None));
            Assert.Contains("StatefulSet lab-2/partitioned will not finish rolling out", e.Message);
            Assert.Contains("partition 1", e.Message);
            Assert.Contains("set the partition to 0", e.Message);
        }
        finally
        {
            await DeleteWithPodsAsync("lab-2", "partitioned", (c, n, ns) => c.AppsV1.DeleteNamespacedStatefulSetAsync(n, ns));
        }
    }

    [Fact]
    public async Task A_rollout_that_does_not_finish_in_time_names_the_workload_and_what_it_waits_for()
    {
        // Its pods can never become Ready: their service account does not exist, so the kubelet gets no token for them.
        var client = await ClientAsync();
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "stuck", NamespaceProperty = "lab-2" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "stuck" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "stuck" } },
                    Spec = new V1PodSpec { ServiceAccountName = "no-such-account", Containers = [new V1Container { Name = "app", Image = "registry.example/app:1" }] },
                },
            },
        }, "lab-2");
        try
        {
            var e = await Assert.ThrowsAsync<RotationException>(() =>
                Workloads(TimeSpan.FromSeconds(5)).WaitRolledOutAsync(new WorkloadRef(ClusterWorkloads.Deployment, "lab-2", "stuck"), CancellationToken.None));
            Assert.Contains("Deployment lab-2/stuck did not finish rolling out within", e.Message);
            Assert.Matches("(replicas have been updated|replicas are available|has not yet seen the new pod template)", e.Message);
            Assert.Contains("kubectl -n lab-2 describe deployment stuck", e.Message);
        }
        finally
        {
            await DeleteWithPodsAsync("lab-2", "stuck", (c, n, ns) => c.AppsV1.DeleteNamespacedDeploymentAsync(n, ns));
        }
    }

    [Fact]
    public async Task A_terminating_pod_of_an_old_template_is_waited_for_and_named()
    {
        // A Deployment that has rolled out, then a pod of an earlier template that its kubelet never stops: it is bound
        // to a node no kubelet runs for, so once deleted it stays Terminating, as on a node that went away.
        var client = await ClientAsync();
        var deployment = await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "lingering", NamespaceProperty = "lab-2" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "lingering" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "lingering" } },
                    Spec = new V1PodSpec { ServiceAccountName = "app", Containers = [new V1Container { Name = "app", Image = "registry.example/app:1" }] },
                },
            },
        }, "lab-2");
        var workload = new WorkloadRef(ClusterWorkloads.Deployment, "lab-2", "lingering");
        try
        {
            await Workloads().WaitRolledOutAsync(workload, CancellationToken.None);
            await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta
                {
                    Name = "lingering-old", NamespaceProperty = "lab-2",
                    Labels = new Dictionary<string, string> { ["app"] = "lingering", [OldTemplatePods.PodTemplateHash] = "earlier" },
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "lingering", Uid = deployment.Metadata.Uid, Controller = true, BlockOwnerDeletion = true }],
                },
                Spec = new V1PodSpec { NodeName = "worker-gone", ServiceAccountName = "app", Containers = [new V1Container { Name = "app", Image = "registry.example/app:0" }] },
            }, "lab-2");
            var deleted = await client.CoreV1.DeleteNamespacedPodAsync("lingering-old", "lab-2");
            Assert.NotNull(deleted.Metadata.DeletionTimestamp);
            Assert.Equal(30, deleted.Metadata.DeletionGracePeriodSeconds);
            var shown = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.Lab.AdminKubeconfig, "-n", "lab-2", "get", "pod", "lingering-old", "--no-headers"]);
            Assert.Contains("Terminating", shown.Stdout);

            var e = await Assert.ThrowsAsync<RotationException>(() => Workloads(TimeSpan.FromSeconds(5)).WaitRolledOutAsync(workload, CancellationToken.None));
            Assert.Contains("Deployment lab-2/lingering did not finish rolling out within", e.Message);
            Assert.Contains("1 pod of an earlier pod template still exists: lab-2/lingering-old (terminating on worker-gone)", e.Message);

            // Gone (as the kubelet or pod GC would do it: grace period 0), the wait ends.
            await client.CoreV1.DeleteNamespacedPodAsync("lingering-old", "lab-2", gracePeriodSeconds: 0);
            await Workloads().WaitRolledOutAsync(workload, CancellationToken.None);
        }
        finally
        {
            await DeleteWithPodsAsync("lab-2", "lingering", (c, n, ns) => c.AppsV1.DeleteNamespacedDeploymentAsync(n, ns));
            try
            {
                await client.CoreV1.DeleteNamespacedPodAsync("lingering-old", "lab-2", gracePeriodSeconds: 0);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
    }

    /// <summary>Deletes a test's workload and the pods labelled app=NAME (the lab has no garbage collector).</summary>
    private async Task DeleteWithPodsAsync(string ns, string name, Func<IKubernetes, string, string, Task> delete)
    {
        var client = await ClientAsync();
        await delete(client, name, ns);
        foreach (var pod in (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"app={name}")).Items)
        {
            try
            {
                await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, ns);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
    }

    /// <summary>
    /// Whether the pod's kubelet still runs it: its workload state names its uid, or (for a name no new pod reuses) what
    /// it loaded at its start is still held. A StatefulSet's new pod reuses the name, so its snapshot may exist, for the new uid.
    /// </summary>
    private bool RunsOnItsNode(PodSeen pod)
    {
        var state = WorkloadPodState.Read(Path.Combine(WorkloadPods.StateDir(lab.Lab, pod.Node), WorkloadPodState.FileName(pod.Namespace, pod.Name)));
        if (state is not null)
            return state.Uid == pod.Uid;
        return Directory.Exists(KubeCaRotate.Lab.Kubelet.LoadedFiles.Dir(lab.Lab, pod.Node, WorkloadPods.Component(pod.Namespace, pod.Name)));
    }

    private static string Key(WorkloadRef w) => $"{w.Kind}/{w.Namespace}/{w.Name}";

    private sealed record PodSeen(string Namespace, string Name, string Uid, string Node, string? Stamp, DateTime? DeletionTimestamp);

    /// <summary>The pods of each workload (by owner reference), with their restart annotation; terminating ones only when asked.</summary>
    private async Task<Dictionary<string, List<PodSeen>>> PodsByWorkloadAsync(bool includeTerminating)
    {
        var pods = await (await ClientAsync()).CoreV1.ListPodForAllNamespacesAsync();
        return pods.Items
            .Where(p => (includeTerminating || p.Metadata.DeletionTimestamp is null) && p.Metadata.OwnerReferences is { Count: > 0 })
            .GroupBy(p => $"{p.Metadata.OwnerReferences[0].Kind}/{p.Metadata.NamespaceProperty}/{p.Metadata.OwnerReferences[0].Name}")
            .ToDictionary(g => g.Key, g => g.Select(p => new PodSeen(p.Metadata.NamespaceProperty, p.Metadata.Name, p.Metadata.Uid, p.Spec?.NodeName ?? "",
                p.Metadata.Annotations is { } a && a.TryGetValue(FileStep.RestartAnnotation, out var v) ? v : null, p.Metadata.DeletionTimestamp)).ToList());
    }

    private async Task EnsureStatefulSetAsync(string ns, string name, int replicas, int? partition)
    {
        var client = await ClientAsync();
        try
        {
            await client.AppsV1.ReadNamespacedStatefulSetAsync(name, ns);
            return;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
        await client.AppsV1.CreateNamespacedStatefulSetAsync(new V1StatefulSet
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1StatefulSetSpec
            {
                Replicas = replicas,
                ServiceName = name,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                UpdateStrategy = new V1StatefulSetUpdateStrategy
                {
                    Type = "RollingUpdate", RollingUpdate = partition is null ? null : new V1RollingUpdateStatefulSetStrategy { Partition = partition },
                },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                    Spec = new V1PodSpec { ServiceAccountName = "app", Containers = [new V1Container { Name = "app", Image = "registry.example/app:1" }] },
                },
            },
        }, ns);
    }
}
