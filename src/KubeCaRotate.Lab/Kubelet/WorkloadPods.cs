using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The workload pods bound to this node, each run in-process as an in-cluster client (the lab-aggregator pods' containers
/// also serve, from processes of their own that outlive the kubelet: <see cref="AggregatorContainer"/>): at its start it reads what
/// its service-account volume would hold at that moment (ca.crt = its namespace's kube-root-ca.crt, token = the
/// legacy token Secret of its serviceAccountName when there is one, else a bound token from the TokenRequest API, asked
/// for as the node), records both with <see cref="LoadedFiles"/> under
/// pod-NAMESPACE-NAME, and from then on calls the API server through the HA endpoint, trusting only that CA, as
/// client-go's in-cluster config does. Cheap by design: the agent's one loop drives every pod, one HttpClient per
/// distinct CA bundle (the token is a header), status posted only when it changes.
/// </summary>
public sealed class WorkloadPods(LabTopology lab, LabNode node, ApiServerConnection kubelet, TextWriter log, TimeProvider time) : IAsyncDisposable
{
    public const string ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, RunningPod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingReported = new(StringComparer.Ordinal);
    private readonly ServiceEndpoints _endpoints = new(kubelet, node);
    private bool _cleaned;

    private sealed class RunningPod(WorkloadPodState state, string? caKey, string? token, string image, string container, JsonObject pod, AggregatorContainer? aggregator)
    {
        public JsonObject Pod { get; } = pod;
        public AggregatorContainer? Aggregator { get; } = aggregator;
        public WorkloadPodState State { get; set; } = state;
        public string? CaKey { get; } = caKey;
        public string? Token { get; } = token;
        public string Image { get; } = image;
        public string Container { get; } = container;
        public DateTimeOffset Transition { get; set; } = state.StartedAt;
        public bool Posted { get; set; }
        /// <summary>When a pod being deleted has finished shutting down; null while it is not being deleted.</summary>
        public DateTimeOffset? StopsAt { get; set; }
    }

    /// <summary>
    /// How long a lab container takes to stop once told to (SIGTERM): it drains, and goes on calling the API server,
    /// for this long, or for its grace period when that is shorter (then it is killed).
    /// </summary>
    public static readonly TimeSpan ShutdownTime = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A running pod that is being deleted: the first time, it is told to stop (out of its Services' endpoints at once, as
    /// the endpoints controller drops a terminating pod) and given <see cref="ShutdownTime"/> or what is left of its grace
    /// period; true once that time is over.
    /// </summary>
    private async Task<bool> ShutDownAsync(RunningPod pod, JsonNode metadata, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (pod.StopsAt is null)
        {
            var deadline = DateTimeOffset.TryParse(metadata["deletionTimestamp"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var d) ? d : now;
            var left = deadline - now;
            pod.StopsAt = now + (left < TimeSpan.Zero ? TimeSpan.Zero : left < ShutdownTime ? left : ShutdownTime);
            log.WriteLine($"{now:O} pod {pod.State.Namespace}/{pod.State.Name}: being deleted (grace period until {deadline:O}); stopping");
            if (pod.Aggregator is not null)
            {
                try
                {
                    await _endpoints.RemoveAsync(pod.Pod, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
                {
                    log.WriteLine($"{now:O} pod {pod.State.Namespace}/{pod.State.Name}: {e.Message}");
                }
            }
        }
        return now >= pod.StopsAt;
    }

    /// <summary>
    /// A pod deleted while no kubelet ran whose container an earlier kubelet left running: out of its Services'
    /// endpoints, then stopped, before its object goes.
    /// </summary>
    private async Task StopLeftContainerAsync(JsonObject pod, string ns, string name, string uid, CancellationToken ct)
    {
        if (WorkloadPodState.Read(Path.Combine(StateDir(lab, node.Name), WorkloadPodState.FileName(ns, name))) is not { } left || left.Uid != uid) return;
        if (!File.Exists(AggregatorContainer.PidFile(lab, node.Name, ns, name))) return;
        try
        {
            await _endpoints.RemoveAsync(pod, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
        {
            log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: {e.Message}");
        }
        await AggregatorContainer.StopLeftAsync(lab, node.Name, ns, name, ct).ConfigureAwait(false);
        log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: deleted while no kubelet ran; its container is stopped");
    }

    public static string StateDir(LabTopology lab, string node) => Path.Combine(lab.RunDir, node, "workloads");

    public static string Component(string ns, string name) => $"pod-{ns}-{name}";

    private volatile IReadOnlyList<WorkloadPodState> _snapshot = [];

    /// <summary>The running pods as of the last sync or call round (safe to read from other threads).</summary>
    public IReadOnlyList<WorkloadPodState> Pods => _snapshot;

    /// <summary>
    /// Starts the pods newly bound to the node and stops those gone; a pod being deleted (deletionTimestamp set) runs on
    /// while it shuts down (<see cref="ShutdownTime"/>, at most its grace period), is then stopped, and only then is its
    /// object deleted (grace 0, uid precondition), as the kubelet does.
    /// </summary>
    public async Task SyncAsync(IReadOnlyList<JsonObject> assigned, CancellationToken ct)
    {
        var live = new HashSet<string>(StringComparer.Ordinal);
        var terminating = new List<(string Namespace, string Name, string Uid)>();
        foreach (var pod in assigned)
        {
            var metadata = pod["metadata"]!;
            var uid = metadata["uid"]?.GetValue<string>() ?? "";
            var ns = metadata["namespace"]?.GetValue<string>() ?? "default";
            var name = metadata["name"]!.GetValue<string>();
            if (metadata["deletionTimestamp"] is not null)
            {
                // Terminating: told to stop, it runs on while it shuts down; once stopped (below, as it is no longer
                // live) its object is deleted.
                if (_pods.TryGetValue(uid, out var stopping) && !await ShutDownAsync(stopping, metadata, ct).ConfigureAwait(false))
                {
                    live.Add(uid);
                    continue;
                }
                if (!_pods.ContainsKey(uid)) await StopLeftContainerAsync(pod, ns, name, uid, ct).ConfigureAwait(false);
                terminating.Add((ns, name, uid));
                continue;
            }
            var phase = pod["status"]?["phase"]?.GetValue<string>();
            if (phase is "Succeeded" or "Failed") continue;
            live.Add(uid);
            if (_pods.ContainsKey(uid)) continue;
            var started = await StartAsync(pod, uid, ns, name, ct).ConfigureAwait(false);
            if (started is not null) _pods[uid] = started;
        }
        foreach (var gone in _pods.Keys.Where(k => !live.Contains(k)).ToList())
        {
            var running = _pods[gone];
            var state = running.State;
            if (running.Aggregator is { } aggregator)
            {
                // out of the Service first, then stopped, as the endpoints controller and the kubelet order it
                try
                {
                    await _endpoints.RemoveAsync(running.Pod, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
                {
                    log.WriteLine($"{time.GetUtcNow():O} pod {state.Namespace}/{state.Name}: {e.Message}");
                }
                await aggregator.StopAsync(ct).ConfigureAwait(false);
                aggregator.Dispose();
            }
            _pods.Remove(gone);
            File.Delete(Path.Combine(StateDir(lab, node.Name), WorkloadPodState.FileName(state.Namespace, state.Name)));
            LoadedFiles.Forget(lab, node.Name, state.Component);
            log.WriteLine($"{time.GetUtcNow():O} pod {state.Namespace}/{state.Name}: deleted, stopped");
        }
        foreach (var (ns, name, uid) in terminating)
        {
            // As the kubelet's status manager: once the containers have stopped, the object goes with grace period 0.
            var reply = await kubelet.DeleteStoppedPodAsync(ns, name, uid, ct).ConfigureAwait(false);
            if (reply.Ok)
                log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: terminated, object deleted");
            else if (reply.Status is not (System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict))
                log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: stopped, but deleting the object was answered {reply.Describe()}; tried again at the next sync");
        }
        _pendingReported.IntersectWith(live);
        if (!_cleaned && Directory.Exists(StateDir(lab, node.Name)))
        {
            // State left by an earlier agent for pods that were deleted while no kubelet ran.
            foreach (var file in Directory.EnumerateFiles(StateDir(lab, node.Name), "*.json"))
            {
                if (WorkloadPodState.Read(file) is { } left && live.Contains(left.Uid)) continue;
                if (WorkloadPodState.Read(file) is { } stale)
                {
                    await AggregatorContainer.StopLeftAsync(lab, node.Name, stale.Namespace, stale.Name, ct).ConfigureAwait(false);
                    LoadedFiles.Forget(lab, node.Name, stale.Component);
                }
                File.Delete(file);
            }
            // A container started by an earlier kubelet that stopped before it recorded the pod's state.
            foreach (var pidFile in Directory.EnumerateFiles(StateDir(lab, node.Name), "*.pid"))
            {
                if (File.Exists(Path.ChangeExtension(pidFile, ".json"))) continue;
                var stem = Path.GetFileNameWithoutExtension(pidFile);
                var split = stem.IndexOf('_', StringComparison.Ordinal);
                if (split > 0) await AggregatorContainer.StopLeftAsync(lab, node.Name, stem[..split], stem[(split + 1)..], ct).ConfigureAwait(false);
            }
        }
        _cleaned = true;
        _snapshot = _pods.Values.Select(p => p.State).ToList();
        foreach (var unused in _clients.Keys.Where(k => _pods.Values.All(p => p.CaKey != k)).ToList())
        {
            _clients[unused].Dispose();
            _clients.Remove(unused);
        }
    }

    private async Task<RunningPod?> StartAsync(JsonObject pod, string uid, string ns, string name, CancellationToken ct)
    {
        var serviceAccount = pod["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default";
        var container = pod["spec"]?["containers"]?[0];
        var earlier = WorkloadPodState.Read(Path.Combine(StateDir(lab, node.Name), WorkloadPodState.FileName(ns, name)));
        // The container kept running while the kubelet restarted: it still holds what it read at its own start.
        var adopted = earlier is not null && earlier.Uid == uid && earlier.CaFile is not null && File.Exists(earlier.CaFile) ? earlier : null;
        var caPem = adopted is not null ? File.ReadAllText(adopted.CaFile!) : await RootCaAsync(ns, ct).ConfigureAwait(false);
        if (caPem is null)
        {
            // The kubelet cannot mount the projected volume: the pod stays Pending and is tried again.
            if (_pendingReported.Add(uid))
                await PostStatusAsync(ns, name, new JsonObject { ["status"] = new JsonObject { ["phase"] = "Pending", ["message"] = $"configmap \"kube-root-ca.crt\" not found in {ns}: the service-account volume cannot be mounted" } }, ct).ConfigureAwait(false);
            return null;
        }
        var component = Component(ns, name);
        var startedAt = time.GetUtcNow();
        string? token;
        var tokenKind = "legacy token";
        var files = new Dictionary<string, byte[]>();
        if (adopted is not null)
        {
            token = adopted.TokenFile is not null && File.Exists(adopted.TokenFile) ? File.ReadAllText(adopted.TokenFile) : null;
            startedAt = adopted.StartedAt;
        }
        else
        {
            token = await FindTokenAsync(ns, serviceAccount, ct).ConfigureAwait(false);
            if (token is null)
            {
                var (bound, problem) = await RequestTokenAsync(ns, name, uid, serviceAccount, ct).ConfigureAwait(false);
                if (bound is null)
                {
                    // The projected token cannot be mounted: the pod stays Pending and is tried again.
                    if (_pendingReported.Add(uid))
                        await PostStatusAsync(ns, name, new JsonObject { ["status"] = new JsonObject { ["phase"] = "Pending", ["message"] = $"the service-account token cannot be mounted: {problem}" } }, ct).ConfigureAwait(false);
                    return null;
                }
                token = bound;
                tokenKind = "bound token";
            }
            files[$"{ServiceAccountDir}/ca.crt"] = Encoding.ASCII.GetBytes(caPem);
            files[$"{ServiceAccountDir}/token"] = Encoding.ASCII.GetBytes(token);
        }
        if (files.Count > 0) LoadedFiles.Write(lab, node, component, files);
        var image = container?["image"]?.GetValue<string>() ?? "";
        AggregatorContainer? aggregator = null;
        if (AggregatorNames.IsImage(image))
        {
            try
            {
                if (token is null) throw new InvalidOperationException("it has no service-account token to read extension-apiserver-authentication with");
                if (adopted is null)
                {
                    // The kubelet mounts the Secret volume before it starts the container, which reads it from there.
                    foreach (var (path, content) in await AggregatorContainer.ServingPairAsync(kubelet, pod, ct).ConfigureAwait(false))
                        LoadedFiles.Record(lab, node, component, path, content);
                }
                aggregator = await AggregatorContainer.RunAsync(lab, node, ns, name, adopted, log, time, ct).ConfigureAwait(false);
                await _endpoints.AddAsync(pod, aggregator.Port, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ApiCallException or InvalidOperationException or IOException or HttpRequestException or System.Security.Cryptography.CryptographicException or FormatException or KubeCaRotate.Pki.PkiException)
            {
                if (aggregator is { Adopted: true })
                {
                    // The container runs on (a kubelet restart does not stop it); the next sync adopts it again and publishes its Endpoints.
                    aggregator.Dispose();
                    log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: the Endpoints of its running container cannot be published yet: {e.Message}");
                    return null;
                }
                if (aggregator is not null)
                {
                    await aggregator.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    aggregator.Dispose();
                }
                // The container fails to start: the pod is not running, and the kubelet tries again.
                if (_pendingReported.Add(uid))
                    await PostStatusAsync(ns, name, new JsonObject { ["status"] = new JsonObject { ["phase"] = "Pending", ["message"] = $"the aggregated API server cannot start: {e.Message}" } }, ct).ConfigureAwait(false);
                log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: the aggregated API server cannot start: {e.Message}");
                return null;
            }
        }
        var caKey = Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(caPem)));
        if (!_clients.ContainsKey(caKey))
        {
            var roots = PemBundle.Parse(caPem, $"configmap {ns}/kube-root-ca.crt").Certificates;
            _clients[caKey] = LabClients.Create(roots, null, CallTimeout);
        }
        var state = new WorkloadPodState
        {
            Namespace = ns, Name = name, Uid = uid, Node = node.Name, ServiceAccount = serviceAccount, StartedAt = startedAt,
            Component = component,
            CaFile = LoadedFiles.Find(lab, node.Name, component, $"{ServiceAccountDir}/ca.crt"),
            TokenFile = token is null ? null : LoadedFiles.Find(lab, node.Name, component, $"{ServiceAccountDir}/token"),
            Server = lab.EndpointUrl,
            Message = token is null ? $"no service-account token Secret for service account {serviceAccount} in {ns}; the pod does not call the API server" : null,
            ServingPort = aggregator?.Port,
        };
        log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: {(adopted is not null ? "adopted" : "started")} (service account {serviceAccount}, CA bundle {caKey[..12]}, {(token is null ? "no token" : tokenKind)})");
        var running = new RunningPod(state, caKey, token, image, container?["name"]?.GetValue<string>() ?? name, pod, aggregator);
        await PublishAsync(running, ct).ConfigureAwait(false);
        return running;
    }

    /// <summary>ca.crt of the namespace's kube-root-ca.crt ConfigMap, read as the node; null when there is none.</summary>
    private async Task<string?> RootCaAsync(string ns, CancellationToken ct)
    {
        var rootCa = await kubelet.GetAsync($"api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt", ct).ConfigureAwait(false);
        return rootCa.Ok ? rootCa.Body?["data"]?["ca.crt"]?.GetValue<string>() : null;
    }

    private async Task<string?> FindTokenAsync(string ns, string serviceAccount, CancellationToken ct)
    {
        var reply = await kubelet.GetAsync($"api/v1/namespaces/{ns}/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token", ct).ConfigureAwait(false);
        if (!reply.Ok) return null;
        foreach (var secret in reply.Body?["items"]?.AsArray() ?? [])
        {
            if (secret?["metadata"]?["annotations"]?["kubernetes.io/service-account.name"]?.GetValue<string>() != serviceAccount) continue;
            if (secret["data"]?["token"]?.GetValue<string>() is { Length: > 0 } encoded)
                return Encoding.ASCII.GetString(Convert.FromBase64String(encoded));
        }
        return null;
    }

    /// <summary>
    /// The projected service-account token as the kubelet gets it: a TokenRequest, as the node, bound to the pod, for the
    /// API server's audiences and 3607 s (which the API server extends). Null with the reason when the API refuses.
    /// </summary>
    private async Task<(string? Token, string? Problem)> RequestTokenAsync(string ns, string pod, string uid, string serviceAccount, CancellationToken ct)
    {
        var request = new JsonObject
        {
            ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenRequest",
            ["spec"] = new JsonObject
            {
                ["expirationSeconds"] = 3607,
                ["boundObjectRef"] = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["name"] = pod, ["uid"] = uid },
            },
        };
        var reply = await kubelet.PostAsync($"api/v1/namespaces/{ns}/serviceaccounts/{serviceAccount}/token", request, ct).ConfigureAwait(false);
        return reply.Ok && reply.Body?["status"]?["token"]?.GetValue<string>() is { Length: > 0 } token
            ? (token, null)
            : (null, $"the TokenRequest for service account {ns}/{serviceAccount} was answered {reply.Describe()}");
    }

    /// <summary>Every running pod with a token calls the API server once; status changes are posted.</summary>
    public async Task CallAsync(CancellationToken ct)
    {
        var calls = _pods.Values.Where(p => p.Token is not null).Select(p => CallOneAsync(p, ct)).ToList();
        await Task.WhenAll(calls).ConfigureAwait(false);
        foreach (var pod in _pods.Values.Where(p => !p.Posted)) await PublishAsync(pod, ct).ConfigureAwait(false);
        _snapshot = _pods.Values.Select(p => p.State).ToList();
    }

    private async Task CallOneAsync(RunningPod pod, CancellationToken ct)
    {
        var s = pod.State;
        bool ok;
        string? message;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{s.Server}/api/v1/namespaces/{s.Namespace}/pods/{s.Name}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", pod.Token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await _clients[pod.CaKey!].SendAsync(request, ct).ConfigureAwait(false);
            ok = response.IsSuccessStatusCode;
            message = ok ? null : $"the API server answered {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (HttpRequestException e)
        {
            ok = false;
            message = e.InnerException is null ? e.Message : $"{e.Message} ({e.InnerException.Message})";
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            ok = false;
            message = $"the call timed out after {CallTimeout.TotalSeconds:0} s";
        }
        var now = time.GetUtcNow();
        if (ok != s.Ready || message != s.Message)
        {
            if (ok != s.Ready) pod.Transition = now;
            pod.Posted = false;
            if (!ok) log.WriteLine($"{now:O} pod {s.Namespace}/{s.Name}: call failed: {message}");
        }
        pod.State = s with { Ready = ok, Message = message, LastCallAt = now };
    }

    /// <summary>Posts the pod's status and writes its state file; on failure it is tried again after the next call.</summary>
    private async Task PublishAsync(RunningPod pod, CancellationToken ct)
    {
        var s = pod.State;
        var dir = StateDir(lab, node.Name);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, WorkloadPodState.FileName(s.Namespace, s.Name));
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(s, WorkloadPodState.Json));
        File.Move(file + ".tmp", file, overwrite: true);
        var status = PodStatusDocument.Running(s.StartedAt, node.Address, s.Ready, s.Message, pod.Container, pod.Image, pod.Transition);
        pod.Posted = await PostStatusAsync(s.Namespace, s.Name, new JsonObject { ["status"] = status }, ct).ConfigureAwait(false);
    }

    private async Task<bool> PostStatusAsync(string ns, string name, JsonObject patch, CancellationToken ct)
    {
        try
        {
            var reply = await kubelet.MergePatchAsync($"api/v1/namespaces/{ns}/pods/{name}/status", patch, ct).ConfigureAwait(false);
            return reply.Ok;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>
    /// The kubelet stops: the in-process pods stop calling with it; the aggregator containers, processes of their own,
    /// keep running and serving (their Endpoints stay: the pods still exist), for the next kubelet to adopt.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        foreach (var pod in _pods.Values) pod.Aggregator?.Dispose();
        foreach (var client in _clients.Values) client.Dispose();
        _clients.Clear();
        return ValueTask.CompletedTask;
    }
}
