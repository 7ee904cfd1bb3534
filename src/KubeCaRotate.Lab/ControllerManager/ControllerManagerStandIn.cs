using KubeCaRotate.Pki;
using static KubeCaRotate.Lab.ControllerManager.WorkloadPods;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The lab's kube-controller-manager. At start, as the real one: checks the signing CA file (exactly one certificate,
/// or it refuses to run), reads --kubeconfig and the root CA (--root-ca-file, else the kubeconfig's CA data) once and
/// never again. Then it competes for the Lease kube-system/kube-controller-manager and, while leading, syncs every
/// --lab-sync-period: root-ca-cert-publisher, the tokens controller's ca.crt, csrapproving, csrsigning, the deployment,
/// daemonset and statefulset controllers, and the garbage collector for pods whose workload is gone.
/// </summary>
public sealed class ControllerManagerStandIn
{
    private static readonly HashSet<string> WorkloadKinds = ["Deployment", "DaemonSet", "StatefulSet"];
    private readonly ControllerManagerOptions _options;
    private readonly KubeconfigClient _client;
    private readonly TimeProvider _time;
    private readonly TextWriter _log;
    private readonly RootCaCertPublisher _publisher;
    private readonly TokensController _tokens;
    private readonly CsrApprovingController _approver;
    private readonly CsrSigningController? _signer;
    private readonly DeploymentController _deployments;
    private readonly DaemonSetController _daemonSets;
    private readonly StatefulSetController _statefulSets;
    private readonly Dictionary<string, string> _lastErrors = [];

    private ControllerManagerStandIn(ControllerManagerOptions options, KubeconfigClient client, string rootCaPem, ClusterSigningAuthority? authority, string identity, TimeProvider time, TextWriter log)
    {
        _options = options;
        _client = client;
        _time = time;
        _log = log;
        RootCaPem = rootCaPem;
        Election = new LeaderElection(client, "kube-system", "kube-controller-manager", identity, options.LeaderElection, time, log);
        var pacer = new RolloutPacer(options.RolloutPace, time);
        _publisher = new RootCaCertPublisher(client, rootCaPem, time, log);
        _tokens = new TokensController(client, rootCaPem, time, log);
        _approver = new CsrApprovingController(client, time, log);
        _signer = authority is null ? null : new CsrSigningController(client, authority, options.ClusterSigningDuration, time, log);
        _deployments = new DeploymentController(client, pacer, time, log);
        _daemonSets = new DaemonSetController(client, pacer, time, log);
        _statefulSets = new StatefulSetController(client, pacer, time, log);
    }

    /// <summary>The root CA read at start: what every kube-root-ca.crt and token Secret gets.</summary>
    public string RootCaPem { get; }

    public LeaderElection Election { get; }

    /// <summary>
    /// Does what the real binary does before its controllers run, and fails the same way: throws
    /// <see cref="InvalidOperationException"/> (one sentence) when the signing CA file holds other than one certificate,
    /// or the kubeconfig or root CA cannot be read.
    /// </summary>
    public static ControllerManagerStandIn Start(ControllerManagerOptions options, string identity, Func<string, string> mapPath, TimeProvider time, TextWriter log)
    {
        ClusterSigningAuthority? authority = null;
        if (options.Runs("csrsigning") && !string.IsNullOrEmpty(options.ClusterSigningCertFile) && !string.IsNullOrEmpty(options.ClusterSigningKeyFile))
        {
            authority = new ClusterSigningAuthority(options.ClusterSigningCertFile, options.ClusterSigningKeyFile);
            try
            {
                authority.Current();
            }
            catch (PkiException e)
            {
                throw new InvalidOperationException($"error reading the signing CA: {e.Message}", e);
            }
        }
        var client = KubeconfigClient.FromFile(options.Kubeconfig ?? throw new InvalidOperationException("kube-controller-manager needs --kubeconfig to reach the API server."), mapPath);
        string rootCa;
        if (string.IsNullOrEmpty(options.RootCaFile))
            rootCa = new PemBundle(client.Roots).ToPem();
        else
        {
            try
            {
                rootCa = File.ReadAllText(options.RootCaFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"error reading root-ca-file {options.RootCaFile} ({e.Message}); fix the file or --root-ca-file.", e);
            }
            if (PemBundle.Parse(rootCa, options.RootCaFile).Count == 0)
                throw new InvalidOperationException($"The root CA file {options.RootCaFile} holds no certificate; fix the file or --root-ca-file.");
        }
        return new ControllerManagerStandIn(options, client, rootCa, authority, identity, time, log);
    }

    /// <summary>Leader election and the controllers until <paramref name="ct"/> is cancelled; releases the lease on the way out.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var election = Task.Run(() => Election.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (Election.IsLeader)
                    await SyncOnceAsync(ct).ConfigureAwait(false);
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

    /// <summary>One pass of every enabled controller over a fresh listing (workloads listed before pods, so no new workload's pods look orphaned).</summary>
    public async Task SyncOnceAsync(CancellationToken ct)
    {
        if (_options.Runs("root-ca-cert-publisher"))
            await Guard("root-ca-cert-publisher", async () => await _publisher.SyncAsync(
                await _client.ListAsync("/api/v1/namespaces", ct).ConfigureAwait(false),
                await _client.ListAsync($"/api/v1/configmaps?fieldSelector=metadata.name%3D{RootCaCertPublisher.ConfigMapName}", ct).ConfigureAwait(false), ct).ConfigureAwait(false)).ConfigureAwait(false);
        if (_options.Runs("serviceaccount-token"))
            await Guard("serviceaccount-token", async () => await _tokens.SyncAsync(
                await _client.ListAsync("/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token", ct).ConfigureAwait(false), ct).ConfigureAwait(false)).ConfigureAwait(false);
        if (_options.Runs("csrapproving") || _signer is not null)
        {
            await Guard("csr", async () =>
            {
                var csrs = await _client.ListAsync("/apis/certificates.k8s.io/v1/certificatesigningrequests", ct).ConfigureAwait(false);
                if (_options.Runs("csrapproving"))
                {
                    await _approver.SyncAsync(csrs, ct).ConfigureAwait(false);
                    csrs = await _client.ListAsync("/apis/certificates.k8s.io/v1/certificatesigningrequests", ct).ConfigureAwait(false);
                }
                if (_signer is not null)
                    await _signer.SyncAsync(csrs, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        await Guard("workloads", async () =>
        {
            var deployments = _options.Runs("deployment") ? await _client.ListAsync("/apis/apps/v1/deployments", ct).ConfigureAwait(false) : [];
            var daemonSets = _options.Runs("daemonset") ? await _client.ListAsync("/apis/apps/v1/daemonsets", ct).ConfigureAwait(false) : [];
            var statefulSets = _options.Runs("statefulset") ? await _client.ListAsync("/apis/apps/v1/statefulsets", ct).ConfigureAwait(false) : [];
            var pods = await _client.ListAsync("/api/v1/pods", ct).ConfigureAwait(false);
            var byOwner = pods.ToLookup(p => ControllerUid(p, out _));
            if (_options.Runs("deployment"))
                await _deployments.SyncAsync(deployments, byOwner, ct).ConfigureAwait(false);
            if (_options.Runs("daemonset"))
                await _daemonSets.SyncAsync(daemonSets, byOwner, await _client.ListAsync("/api/v1/nodes", ct).ConfigureAwait(false), ct).ConfigureAwait(false);
            if (_options.Runs("statefulset"))
                await _statefulSets.SyncAsync(statefulSets, byOwner, ct).ConfigureAwait(false);
            if (_options.Runs("garbage-collector") && _options.Runs("deployment") && _options.Runs("daemonset") && _options.Runs("statefulset"))
            {
                var owners = deployments.Concat(daemonSets).Concat(statefulSets).Select(Uid).ToHashSet();
                foreach (var orphan in pods.Where(p => !IsTerminating(p) && ControllerUid(p, out var kind) is { Length: > 0 } uid && WorkloadKinds.Contains(kind) && !owners.Contains(uid)))
                {
                    await _client.DeleteAsync($"/api/v1/namespaces/{Namespace(orphan)}/pods/{Name(orphan)}", ct).ConfigureAwait(false);
                    _log.WriteLine($"{_time.GetUtcNow():O} garbage-collector: deleted pod {Namespace(orphan)}/{Name(orphan)}, whose owner is gone");
                }
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Runs one controller; an API failure is logged (once per distinct message) and retried at the next sync.</summary>
    private async Task Guard(string controller, Func<Task> sync)
    {
        try
        {
            await sync().ConfigureAwait(false);
            _lastErrors.Remove(controller);
        }
        catch (ApiCallException e)
        {
            if (!_lastErrors.TryGetValue(controller, out var last) || last != e.Message)
                _log.WriteLine($"{_time.GetUtcNow():O} {controller}: {e.Message}");
            _lastErrors[controller] = e.Message;
        }
    }
}
