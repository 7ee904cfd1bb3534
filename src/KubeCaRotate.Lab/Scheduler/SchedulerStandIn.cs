using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using static KubeCaRotate.Lab.ControllerManager.WorkloadPods;

namespace KubeCaRotate.Lab.Scheduler;

/// <summary>
/// The lab's kube-scheduler: reads --kubeconfig once at start, competes for the Lease kube-system/kube-scheduler, and
/// while leading binds every pending pod of its scheduler name (no spec.nodeName) to a Ready node whose
/// NoSchedule/NoExecute taints the pod tolerates and whose labels match its nodeSelector, spreading pods round robin.
/// Binding is a merge patch of spec.nodeName with the pod's resourceVersion as precondition, plus the PodScheduled
/// condition on its status.
/// </summary>
public sealed class SchedulerStandIn
{
    private readonly SchedulerOptions _options;
    private readonly KubeconfigClient _client;
    private readonly TimeProvider _time;
    private readonly TextWriter _log;
    private int _next;
    private string? _lastError;

    private SchedulerStandIn(SchedulerOptions options, KubeconfigClient client, string identity, TimeProvider time, TextWriter log)
    {
        _options = options;
        _client = client;
        _time = time;
        _log = log;
        Election = new LeaderElection(client, "kube-system", "kube-scheduler", identity, options.LeaderElection, time, log);
    }

    public LeaderElection Election { get; }

    /// <summary>Reads the kubeconfig (once). Throws <see cref="InvalidOperationException"/> with one sentence when it cannot.</summary>
    public static SchedulerStandIn Start(SchedulerOptions options, string identity, Func<string, string> mapPath, TimeProvider time, TextWriter log) =>
        new(options, KubeconfigClient.FromFile(options.Kubeconfig ?? throw new InvalidOperationException("kube-scheduler needs --kubeconfig to reach the API server."), mapPath), identity, time, log);

    public async Task RunAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var election = Task.Run(() => Election.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (Election.IsLeader)
                {
                    try
                    {
                        await ScheduleOnceAsync(ct).ConfigureAwait(false);
                        _lastError = null;
                    }
                    catch (ApiCallException e)
                    {
                        if (_lastError != e.Message)
                            _log.WriteLine($"{_time.GetUtcNow():O} scheduler: {e.Message}");
                        _lastError = e.Message;
                    }
                }
                await Task.Delay(_options.SyncPeriod, _time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await election.ConfigureAwait(false);
            _client.Dispose();
        }
    }

    /// <summary>Binds the pods pending now. Returns how many were bound.</summary>
    public async Task<int> ScheduleOnceAsync(CancellationToken ct)
    {
        var pending = (await _client.ListAsync("/api/v1/pods?fieldSelector=spec.nodeName%3D", ct).ConfigureAwait(false))
            .Where(p => Str(p["spec"]?["nodeName"]).Length == 0 && p["metadata"]?["deletionTimestamp"] is null
                && (Str(p["spec"]?["schedulerName"]) is var s && (s.Length == 0 || s == _options.SchedulerName))
                && Str(p["status"]?["phase"]) is "" or "Pending")
            .ToList();
        if (pending.Count == 0)
            return 0;
        var nodes = (await _client.ListAsync("/api/v1/nodes", ct).ConfigureAwait(false))
            .Where(TaintToleration.IsReady)
            .OrderBy(Name, StringComparer.Ordinal)
            .ToList();
        var bound = 0;
        foreach (var pod in pending)
        {
            var spec = pod["spec"] as JsonObject ?? new JsonObject();
            var fits = nodes.Where(n => TaintToleration.Tolerates(spec, n) && TaintToleration.MatchesNodeSelector(spec, n)).ToList();
            if (fits.Count == 0)
                continue; // stays Pending, as an unschedulable pod does
            var node = Name(fits[_next++ % fits.Count]);
            try
            {
                var boundPod = await _client.MergePatchAsync($"/api/v1/namespaces/{Namespace(pod)}/pods/{Name(pod)}", new JsonObject
                {
                    ["metadata"] = new JsonObject { ["resourceVersion"] = Str(pod["metadata"]?["resourceVersion"]) },
                    ["spec"] = new JsonObject { ["nodeName"] = node },
                }, ct).ConfigureAwait(false) ?? pod;
                await MarkScheduledAsync(boundPod, ct).ConfigureAwait(false);
                _log.WriteLine($"{_time.GetUtcNow():O} scheduler: bound {Namespace(pod)}/{Name(pod)} to {node}");
                bound++;
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound)
            {
                // changed or deleted meanwhile: looked at again next time
            }
        }
        return bound;
    }

    /// <summary>
    /// Adds PodScheduled=True to the status, as the binding subresource does, unless someone (the kubelet) changed the
    /// pod since the bind: a merge patch replaces the whole conditions list, so it is pinned to the bound resourceVersion.
    /// </summary>
    private async Task MarkScheduledAsync(JsonObject pod, CancellationToken ct)
    {
        var conditions = new JsonArray();
        foreach (var c in (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>())
            if (Str(c["type"]) != "PodScheduled")
                conditions.Add(c.DeepClone());
        conditions.Add(new JsonObject
        {
            ["type"] = "PodScheduled",
            ["status"] = "True",
            ["lastTransitionTime"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        });
        try
        {
            await _client.MergePatchAsync($"/api/v1/namespaces/{Namespace(pod)}/pods/{Name(pod)}/status", new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = Str(pod["metadata"]?["resourceVersion"]) },
                ["status"] = new JsonObject { ["conditions"] = conditions },
            }, ct).ConfigureAwait(false);
        }
        catch (ApiCallException e) when (e.IsConflict)
        {
            // the kubelet already reports on the pod
        }
    }
}
