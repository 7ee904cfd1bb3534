using k8s;
using k8s.Models;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Watches components come back after a restart step, through the API and the components' own health endpoints:
/// <list type="bullet">
/// <item>a static pod: its mirror pod kube-system/COMPONENT-NODE started after the change (<see cref="MirrorPodStart.StartedAfter"/>)
/// and is Ready; for kube-apiserver also that node's /readyz answers 200, for etcd that the member's /health says
/// true (<see cref="ControlPlaneHealthCheck"/>, with the node's own credentials);</item>
/// <item>a kubelet: its Node is Ready with a heartbeat at or after the restart (in whole seconds, as the API has it), and
/// its Lease kube-node-lease/NODE was renewed after the restart command returned (renewTime has microseconds; the
/// old kubelet is stopped by then, so only the new one can have renewed it).</item>
/// </list>
/// Times from the API are the nodes' clocks and <c>after</c> is this tool's: they are assumed to agree (NTP).
/// </summary>
public sealed class ClusterRestartObserver : IRestartObserver
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    private readonly RotationApiConnection _connection;
    private readonly RotationNodes _nodes;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ControlPlaneHealthCheck _health;

    public ClusterRestartObserver(RotationApiConnection connection, RotationNodes nodes, RotationPaths paths, TimeProvider time, TimeSpan? timeout = null)
    {
        _connection = connection;
        _nodes = nodes;
        _time = time;
        _timeout = timeout ?? DefaultTimeout;
        _health = new ControlPlaneHealthCheck(paths);
    }

    public async Task WaitStaticPodRestartedAsync(string node, string component, DateTimeOffset after, CancellationToken ct)
    {
        var target = _nodes[node];
        var mirror = $"{component}-{node}";
        await ClusterWait.UntilAsync(_time, _time.GetUtcNow() + _timeout, c => LookAtStaticPodAsync(target, component, mirror, after, c),
            seen => new RotationException(
                $"{component} on {node} did not come back within {ApiTime.Duration(_timeout)}: {seen}; " +
                $"look at the pod's log (crictl logs of the {component} container on {node}) and the kubelet's log on {node} (journalctl -u kubelet), then run again."), ct).ConfigureAwait(false);
    }

    /// <summary>Null when the pod is back; otherwise what holds it up.</summary>
    private async Task<string?> LookAtStaticPodAsync(RotationNode node, string component, string mirror, DateTimeOffset after, CancellationToken ct)
    {
        V1Pod? pod;
        try
        {
            pod = await _connection.CallAsync((api, t) => api.CallAsync($"read Pod kube-system/{mirror}",
                async c => await api.Client.CoreV1.ReadNamespacedPodAsync(mirror, "kube-system", cancellationToken: c).ConfigureAwait(false), t), ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return $"there is no mirror pod kube-system/{mirror} (the kubelet has not published the pod of the new manifest yet)";
        }
        catch (ClusterApiException e)
        {
            return $"the API did not answer about mirror pod kube-system/{mirror} ({e.Message.TrimEnd('.')})";
        }
        var start = MirrorPodStart.From(pod);
        if (!start.StartedAfter(after) || !start.Ready) return start.Describe(after);
        var health = component switch
        {
            "kube-apiserver" => await _health.ApiServerReadyAsync(node, ct).ConfigureAwait(false),
            "etcd" => await _health.EtcdMemberHealthyAsync(node, ct).ConfigureAwait(false),
            _ => null,
        };
        if (health is { Healthy: false }) return $"{start.Describe(after)}, but {health.Seen}";
        return null;
    }

    public async Task WaitKubeletRestartedAsync(string node, DateTimeOffset after, CancellationToken ct)
    {
        _ = _nodes[node]; // a node the rotation does not know is an error in the caller, said at once
        // The restart command has returned when this is called, so the old kubelet is stopped: a renewal from now on is the new one's.
        var commandReturned = _time.GetUtcNow();
        var renewedAfter = ApiTime.ToMicrosecond(commandReturned > after ? commandReturned : after);
        await ClusterWait.UntilAsync(_time, commandReturned + _timeout, c => LookAtKubeletAsync(node, after, renewedAfter, c),
            seen => new RotationException(
                $"The kubelet on {node} did not come back within {ApiTime.Duration(_timeout)}: {seen}; " +
                $"look at the kubelet's log on {node} (journalctl -u kubelet) and at its kubeconfig and client certificate, then run again."), ct).ConfigureAwait(false);
    }

    private async Task<string?> LookAtKubeletAsync(string node, DateTimeOffset after, DateTimeOffset renewedAfter, CancellationToken ct)
    {
        V1Node current;
        V1Lease lease;
        try
        {
            current = await _connection.CallAsync((api, t) => api.CallAsync($"read Node {node}",
                async c => await api.Client.CoreV1.ReadNodeAsync(node, cancellationToken: c).ConfigureAwait(false), t), ct).ConfigureAwait(false);
            lease = await _connection.CallAsync((api, t) => api.CallAsync($"read Lease kube-node-lease/{node}",
                async c => await api.Client.CoordinationV1.ReadNamespacedLeaseAsync(node, "kube-node-lease", cancellationToken: c).ConfigureAwait(false), t), ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return $"there is no Node {node} or no Lease kube-node-lease/{node} ({e.Message.TrimEnd('.')})";
        }
        catch (ClusterApiException e)
        {
            return $"the API did not answer about Node {node} ({e.Message.TrimEnd('.')})";
        }
        var ready = current.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        if (ready is null) return $"Node {node} has no Ready condition";
        if (ready.Status != "True") return $"Node {node} is Ready={ready.Status} ({ready.Reason}: {ready.Message})";
        if (ready.LastHeartbeatTime is not { } beat) return $"Node {node} is Ready but its Ready condition has no lastHeartbeatTime";
        var heartbeat = ApiTime.Utc(beat);
        if (heartbeat < ApiTime.ToSecond(after))
            return $"Node {node} last reported Ready at {ApiTime.Seconds(heartbeat)}, before the restart at {ApiTime.Millis(after)}";
        if (lease.Spec?.RenewTime is not { } renew) return $"Lease kube-node-lease/{node} has no renewTime";
        var renewed = ApiTime.Utc(renew);
        if (renewed < renewedAfter)
            return $"Lease kube-node-lease/{node} was last renewed at {ApiTime.Millis(renewed)}, before the restart command returned at {ApiTime.Millis(renewedAfter)}";
        return null;
    }
}
