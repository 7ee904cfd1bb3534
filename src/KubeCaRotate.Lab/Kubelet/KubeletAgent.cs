using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The lab's kubelet, run by the node agent process: reads its config and kubelet.conf once at start (snapshotted
/// under DIR/run/NODE/loaded/kubelet), runs the static pods, serves the kubelet API, and every
/// <see cref="SyncInterval"/> renews its Lease, reports the Node Ready, keeps mirror pods, runs the workload pods
/// bound to the node, and rotates its client certificate when told (DIR/run/NODE/renew-client-cert) or when due.
/// </summary>
public sealed class KubeletAgent(LabTopology lab, LabNode node, TextWriter log, TimeProvider time)
{
    public static readonly TimeSpan SyncInterval = TimeSpan.FromSeconds(2);
    public const string Component = "kubelet";

    /// <summary>The file whose presence asks the kubelet to renew its client certificate now.</summary>
    public static string RenewTriggerFile(LabTopology lab, string node) => Path.Combine(lab.RunDir, node, "renew-client-cert");

    public async Task RunAsync(CancellationToken ct)
    {
        var startedAt = time.GetUtcNow();
        KubeletStartedAt.Record(lab, node.Name, startedAt);
        var config = KubeletStartConfig.Load(lab, node);
        LoadedFiles.Snapshot(lab, node, Component, config.LoadedPaths);
        var root = lab.NodeRoot(node);
        var store = new KubeletClientCertificateStore(new LocalNode(node.Name, root), time);
        var identity = config.EmbeddedClientPem is { } pem
            ? X509Certificate2.CreateFromPem(pem, pem)
            : await store.LoadAsync(config.ClientCertificateFile!, config.ClientKeyFile, ct).ConfigureAwait(false);
        var certificateFile = config.ClientCertificateFile is null ? null : await store.CurrentTargetAsync(ct).ConfigureAwait(false) ?? config.ClientCertificateFile;
        log.WriteLine($"{startedAt:O} kubelet: API server {config.Server}, client certificate {certificateFile ?? "embedded"} (serial {identity.SerialNumber}), clientCAFile {config.ClientCaFile}, static pods from {config.StaticPodPath} every {config.FileCheckFrequency.TotalSeconds:0.###} s");

        using var api = new ApiServerConnection(config.Server, config.ServerRoots, identity);
        var runner = new StaticPodRunner(lab, node, log, time) { StaticPodPath = config.StaticPodPath, FileCheckFrequency = config.FileCheckFrequency };
        await using var workloads = new WorkloadPods(lab, node, api, log, time);
        var mirrors = new MirrorPodPublisher(node.Name, node.Address, api, time);
        var heartbeat = new NodeHeartbeat(node.Name, api, time);
        var rotation = new ClientCertificateRotation(node.Name, api, store, log, time);
        using var stopRunner = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var runnerTask = Task.Run(() => runner.RunAsync(stopRunner.Token), CancellationToken.None);

        var state = new KubeletState
        {
            Pid = Environment.ProcessId, StartedAt = startedAt, Server = config.Server, KubeletApiUrl = $"https://{config.Address}:{config.Port}",
            ClientCaFile = config.ClientCaFile, ClientCertificateFile = certificateFile, ClientCertificateSerial = identity.SerialNumber,
            ClientCertificateNotAfter = identity.NotAfter.ToUniversalTime(),
        };
        state.Write(lab.RunDir, node.Name);

        KubeletApiServer? server = null;
        Task<(X509Certificate2 Certificate, string DatedPath)>? renewal = null;
        string? lastError = null;
        try
        {
            server = await KubeletApiServer.StartAsync(config.Address, config.Port, Path.Join(root, config.ServingCertFile), Path.Join(root, config.ServingKeyFile),
                Path.Join(root, config.ClientCaFile), () => PodList(runner.Pods, workloads.Pods, mirrors), time, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} kubelet: serving the kubelet API on {server.Endpoint}");
            while (!ct.IsCancellationRequested)
            {
                string? error = null;
                if (renewal is { IsCompleted: true })
                {
                    try
                    {
                        var (certificate, dated) = await renewal.ConfigureAwait(false);
                        api.Use(certificate);
                        LoadedFiles.Refresh(lab, node, Component, KubeletClientCertificateStore.CurrentPath);
                        state = state with
                        {
                            ClientCertificateFile = dated, ClientCertificateSerial = certificate.SerialNumber,
                            ClientCertificateNotAfter = certificate.NotAfter.ToUniversalTime(), LastRenewalAt = time.GetUtcNow(),
                        };
                        log.WriteLine($"{time.GetUtcNow():O} kubelet: now connecting with client certificate {dated}");
                    }
                    catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException or NodeAccessException)
                    {
                        error = $"client certificate renewal failed: {e.Message}";
                    }
                    renewal = null;
                }
                var trigger = RenewTriggerFile(lab, node.Name);
                var asked = File.Exists(trigger);
                if (renewal is null && config.RotateCertificates && (asked || ClientCertificateRotation.IsDue(api.Identity, time.GetUtcNow())))
                {
                    if (asked) File.Delete(trigger);
                    log.WriteLine($"{time.GetUtcNow():O} kubelet: renewing the client certificate ({(asked ? "asked to" : "past 80% of its lifetime")})");
                    renewal = Task.Run(() => rotation.RenewAsync(ct), CancellationToken.None);
                }
                else if (asked && !config.RotateCertificates)
                {
                    File.Delete(trigger);
                    log.WriteLine($"{time.GetUtcNow():O} kubelet: asked to renew the client certificate, but rotateCertificates is off in {KubeletStartConfig.ConfigPath}");
                }

                try
                {
                    await heartbeat.BeatAsync(ct).ConfigureAwait(false);
                    var assigned = await api.GetAsync($"api/v1/pods?fieldSelector=spec.nodeName%3D{node.Name}", ct).ConfigureAwait(false);
                    if (!assigned.Ok) throw new InvalidOperationException($"The kubelet of {node.Name} could not list its pods: {assigned.Describe()}.");
                    var items = assigned.Body?["items"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
                    bool IsMirror(JsonObject p) => p["metadata"]?["annotations"]?[MirrorPodPublisher.MirrorAnnotation] is not null;
                    await mirrors.SyncAsync(runner.Pods, items.Where(IsMirror).ToList(), ct).ConfigureAwait(false);
                    await workloads.SyncAsync(items.Where(p => !IsMirror(p)).ToList(), ct).ConfigureAwait(false);
                    await workloads.CallAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException or TaskCanceledException)
                {
                    error ??= e.InnerException is null ? e.Message : $"{e.Message} ({e.InnerException.Message})";
                }
                if (error != lastError)
                {
                    log.WriteLine(error is null ? $"{time.GetUtcNow():O} kubelet: connected to the API server again" : $"{time.GetUtcNow():O} kubelet: {error}");
                    lastError = error;
                }
                var updated = state with { ReadyAt = heartbeat.ReportedReadyAt, LastError = error };
                if (updated != state)
                {
                    state = updated;
                    state.Write(lab.RunDir, node.Name);
                }
                try
                {
                    await Task.Delay(SyncInterval, time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        finally
        {
            if (server is not null) await server.DisposeAsync().ConfigureAwait(false);
            await stopRunner.CancelAsync().ConfigureAwait(false);
            await runnerTask.ConfigureAwait(false);
        }
    }

    /// <summary>The pods this kubelet runs, as /pods answers (a v1 PodList).</summary>
    private JsonObject PodList(IReadOnlyList<StaticPodStatus> statics, IReadOnlyList<WorkloadPodState> workloads, MirrorPodPublisher mirrors)
    {
        var items = new JsonArray();
        foreach (var p in statics)
        {
            items.Add(new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = mirrors.MirrorName(p), ["namespace"] = "kube-system",
                    ["annotations"] = new JsonObject { [MirrorPodPublisher.HashAnnotation] = p.Hash, [MirrorPodPublisher.SourceAnnotation] = "file" },
                },
                ["spec"] = new JsonObject { ["nodeName"] = node.Name },
                ["status"] = PodStatusDocument.Running(p.StartedAt, node.Address, true, null, p.PodName, p.Image ?? "", p.StartedAt),
            });
        }
        foreach (var w in workloads)
        {
            items.Add(new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = w.Name, ["namespace"] = w.Namespace, ["uid"] = w.Uid },
                ["spec"] = new JsonObject { ["nodeName"] = node.Name, ["serviceAccountName"] = w.ServiceAccount },
                ["status"] = PodStatusDocument.Running(w.StartedAt, node.Address, w.Ready, w.Message, w.Name, "", w.StartedAt),
            });
        }
        return new JsonObject { ["kind"] = "PodList", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["items"] = items };
    }
}
