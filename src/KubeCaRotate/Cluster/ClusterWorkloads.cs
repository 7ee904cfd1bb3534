using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Rolling restarts of Deployments, DaemonSets and StatefulSets as `kubectl rollout restart` does them: a strategic
/// merge patch of one pod-template annotation (here <see cref="FileStep.RestartAnnotation"/> = the step's stamp, so a
/// rerun sees it done), which the workload's controller answers with a rolling update. The wait follows
/// `kubectl rollout status` (<see cref="RolloutStatus"/>) and then waits until no pod of an earlier pod template exists
/// (<see cref="OldTemplatePods"/>): rollout status does not count terminating pods, yet they still run with the trust
/// they loaded at their start, for up to their terminationGracePeriodSeconds.
/// </summary>
public sealed class ClusterWorkloads(RotationApiConnection connection, TimeProvider time, TimeSpan? timeout = null) : IWorkloads
{
    public const string Deployment = "Deployment";
    public const string DaemonSet = "DaemonSet";
    public const string StatefulSet = "StatefulSet";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);
    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    public async Task<IReadOnlyList<WorkloadRef>> ListAsync(CancellationToken ct)
    {
        var deployments = await connection.CallAsync((api, t) => api.ListAllAsync("list Deployments in all namespaces", async (c, limit, t2) =>
        {
            var l = await api.Client.AppsV1.ListDeploymentForAllNamespacesAsync(continueParameter: c, limit: limit, cancellationToken: t2).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, t), ct).ConfigureAwait(false);
        var daemonSets = await connection.CallAsync((api, t) => api.ListAllAsync("list DaemonSets in all namespaces", async (c, limit, t2) =>
        {
            var l = await api.Client.AppsV1.ListDaemonSetForAllNamespacesAsync(continueParameter: c, limit: limit, cancellationToken: t2).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, t), ct).ConfigureAwait(false);
        var statefulSets = await connection.CallAsync((api, t) => api.ListAllAsync("list StatefulSets in all namespaces", async (c, limit, t2) =>
        {
            var l = await api.Client.AppsV1.ListStatefulSetForAllNamespacesAsync(continueParameter: c, limit: limit, cancellationToken: t2).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, t), ct).ConfigureAwait(false);
        return deployments.Select(d => new WorkloadRef(Deployment, d.Namespace(), d.Name()))
            .Concat(daemonSets.Select(d => new WorkloadRef(DaemonSet, d.Namespace(), d.Name())))
            .Concat(statefulSets.Select(s => new WorkloadRef(StatefulSet, s.Namespace(), s.Name())))
            .OrderBy(w => w.Kind, StringComparer.Ordinal).ThenBy(w => w.Namespace, StringComparer.Ordinal).ThenBy(w => w.Name, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<bool> IsRestartedAsync(WorkloadRef workload, string stamp, CancellationToken ct) =>
        await ReadAsync(workload, ct).ConfigureAwait(false) is { } current && current.TemplateAnnotation == stamp;

    public async Task<bool> RestartAsync(WorkloadRef workload, string stamp, CancellationToken ct)
    {
        var current = await ReadAsync(workload, ct).ConfigureAwait(false);
        if (current is null) return false;
        if (current.TemplateAnnotation == stamp) return true;
        var patch = new V1Patch(RestartPatch(stamp), V1Patch.PatchType.StrategicMergePatch);
        try
        {
            await connection.CallAsync((api, t) => api.CallAsync($"restart {workload}", async c => workload.Kind switch
            {
                Deployment => (object)await api.Client.AppsV1.PatchNamespacedDeploymentAsync(patch, workload.Name, workload.Namespace, cancellationToken: c).ConfigureAwait(false),
                DaemonSet => await api.Client.AppsV1.PatchNamespacedDaemonSetAsync(patch, workload.Name, workload.Namespace, cancellationToken: c).ConfigureAwait(false),
                _ => await api.Client.AppsV1.PatchNamespacedStatefulSetAsync(patch, workload.Name, workload.Namespace, cancellationToken: c).ConfigureAwait(false),
            }, t), ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return false;
        }
        return true;
    }

    /// <summary>The strategic merge patch that sets the restart annotation on the pod template, and nothing else.</summary>
    public static string RestartPatch(string stamp) => new JsonObject
    {
        ["spec"] = new JsonObject
        {
            ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [FileStep.RestartAnnotation] = stamp } } },
        },
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = false });

    public async Task WaitRolledOutAsync(WorkloadRef workload, CancellationToken ct)
    {
        await ClusterWait.UntilAsync(time, time.GetUtcNow() + _timeout, async c =>
            {
                var current = await ReadAsync(workload, c).ConfigureAwait(false);
                if (current is null) return null; // gone: nothing of it runs with the old trust
                switch (current.Status.State)
                {
                    case RolloutState.Done:
                        var old = await connection.CallAsync((api, t) => OldTemplatePods.FindAsync(api, current.Workload, t), c).ConfigureAwait(false);
                        return old.None ? null : $"{current.Status.Detail}, but {old.Describe()}";
                    case RolloutState.Stuck:
                        throw new RotationException($"{workload} will not finish rolling out: {current.Status.Detail}; then run again.");
                    default:
                        return current.Status.Detail;
                }
            },
            seen => new RotationException(
                $"{workload} did not finish rolling out within {ApiTime.Duration(_timeout)}: {seen}; look at its pods (kubectl -n {workload.Namespace} get pods, " +
                $"kubectl -n {workload.Namespace} describe {workload.Kind.ToLowerInvariant()} {workload.Name}) and the controller-manager's log, then run again."), ct).ConfigureAwait(false);
    }

    private sealed record WorkloadState(string? TemplateAnnotation, RolloutStatus Status, object Workload);

    /// <summary>The workload's restart annotation and rollout status, or null when it does not exist.</summary>
    private async Task<WorkloadState?> ReadAsync(WorkloadRef workload, CancellationToken ct)
    {
        try
        {
            return await connection.CallAsync((api, t) => api.CallAsync($"read {workload}", async c =>
            {
                switch (workload.Kind)
                {
                    case Deployment:
                        var d = await api.Client.AppsV1.ReadNamespacedDeploymentAsync(workload.Name, workload.Namespace, cancellationToken: c).ConfigureAwait(false);
                        return new WorkloadState(Annotation(d.Spec?.Template?.Metadata), RolloutStatus.Of(d), d);
                    case DaemonSet:
                        var ds = await api.Client.AppsV1.ReadNamespacedDaemonSetAsync(workload.Name, workload.Namespace, cancellationToken: c).ConfigureAwait(false);
                        return new WorkloadState(Annotation(ds.Spec?.Template?.Metadata), RolloutStatus.Of(ds), ds);
                    case StatefulSet:
                        var sts = await api.Client.AppsV1.ReadNamespacedStatefulSetAsync(workload.Name, workload.Namespace, cancellationToken: c).ConfigureAwait(false);
                        return new WorkloadState(Annotation(sts.Spec?.Template?.Metadata), RolloutStatus.Of(sts), sts);
                    default:
                        throw new RotationException($"{workload} is not a Deployment, DaemonSet or StatefulSet, which are the workloads a rotation restarts.");
                }
            }, t), ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    private static string? Annotation(V1ObjectMeta? template) =>
        template?.Annotations?.TryGetValue(FileStep.RestartAnnotation, out var value) == true ? value : null;
}
