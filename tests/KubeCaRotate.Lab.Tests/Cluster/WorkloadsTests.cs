using k8s;
using k8s.Models;
using KubeCaRotate.Cluster;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>Rolling restarts as a rotation does them, on the lab's controller-manager: every workload rolls, its pods are replaced.</summary>
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

        var podsBefore = await PodsByWorkloadAsync();
        var stamp = $"test/{Guid.NewGuid():N}";
        foreach (var w in all) Assert.False(await workloads.IsRestartedAsync(w, stamp, CancellationToken.None), $"{w} already carries {stamp}");

        foreach (var w in all) Assert.True(await workloads.RestartAsync(w, stamp, CancellationToken.None), $"{w} was not restarted");
        foreach (var w in all) Assert.True(await workloads.IsRestartedAsync(w, stamp, CancellationToken.None), $"{w} does not carry {stamp}");
        await Task.WhenAll(all.Select(w => workloads.WaitRolledOutAsync(w, CancellationToken.None)));

        var podsAfter = await PodsByWorkloadAsync();
        foreach (var w in all)
        {
            var before = podsBefore.GetValueOrDefault(Key(w)) ?? [];
            var after = podsAfter.GetValueOrDefault(Key(w)) ?? [];
            Assert.True(before.Count > 0, $"{w} had no pods before its restart");
            Assert.True(after.Count > 0, $"{w} has no pods after its restart");
            Assert.Empty(before.Select(p => p.Uid).Intersect(after.Select(p => p.Uid)));
            Assert.All(after, p => Assert.Equal(stamp, p.Stamp));
        }

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

    private static string Key(WorkloadRef w) => $"{w.Kind}/{w.Namespace}/{w.Name}";

    private sealed record PodSeen(string Uid, string? Stamp);

    /// <summary>The live pods of each workload (by owner reference), with their restart annotation.</summary>
    private async Task<Dictionary<string, List<PodSeen>>> PodsByWorkloadAsync()
    {
        var pods = await (await ClientAsync()).CoreV1.ListPodForAllNamespacesAsync();
        return pods.Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Metadata.OwnerReferences is { Count: > 0 })
            .GroupBy(p => $"{p.Metadata.OwnerReferences[0].Kind}/{p.Metadata.NamespaceProperty}/{p.Metadata.OwnerReferences[0].Name}")
            .ToDictionary(g => g.Key, g => g.Select(p => new PodSeen(p.Metadata.Uid, (p.Metadata.Annotations is { } a && a.TryGetValue(FileStep.RestartAnnotation, out var v) ? v : null))).ToList());
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
