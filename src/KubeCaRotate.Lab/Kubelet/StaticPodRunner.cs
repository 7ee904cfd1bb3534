using System.Security.Cryptography;
using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// One static pod the kubelet runs: its manifest, content hash and process, and when this kubelet first saw the manifest
/// content it runs (a real kubelet's kubernetes.io/config.seen, taken before the pod's containers start).
/// </summary>
public sealed record StaticPodStatus(string ManifestFile, string PodName, string Hash, int Pid, DateTimeOffset StartedAt, string? Image, DateTimeOffset? SeenAt = null);

/// <summary>
/// The kubelet's static pod loop, as the lab's node agent runs it: every fileCheckFrequency it reads the manifests
/// directory; a new manifest starts its pod, a manifest whose content changed restarts it (a bare touch does not:
/// the decision is made on the content hash, as the kubelet's config hash), a removed manifest stops it, and a pod
/// whose process died is started again (restartPolicy Always). Like containers under containerd, the pods outlive
/// the kubelet: when the agent stops they keep running, and a new agent adopts each pod whose process is alive and
/// whose recorded hash (POD.hash) is the hash of the current manifest, and replaces the others.
/// </summary>
public sealed class StaticPodRunner(LabTopology lab, LabNode node, TextWriter log, TimeProvider time)
{
    private readonly Dictionary<string, RunningPod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _notRunnable = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<StaticPodStatus> _status = [];

    private sealed record RunningPod(string Manifest, string PodName, string Hash, ChildProcess Process, string Component, string? Image, DateTimeOffset SeenAt);

    /// <summary>The manifests directory on the node (staticPodPath); kubeadm's default unless the kubelet config says otherwise.</summary>
    public string StaticPodPath { get; init; } = KubeadmPaths.Default.ManifestsDir;

    /// <summary>How often the manifests directory is read (fileCheckFrequency).</summary>
    public TimeSpan FileCheckFrequency { get; init; } = lab.FileCheckFrequency;

    /// <summary>The pods running after the last sync, for mirror pods and the kubelet API.</summary>
    public IReadOnlyList<StaticPodStatus> Pods => _status;

    /// <summary>Raised (on the runner's loop) after a sync that started, restarted or stopped a pod.</summary>
    public event Action? Changed;

    private string Root => lab.NodeRoot(node);

    private string PodRunDir => PodRunDirectory(lab, node.Name);

    public static string PodRunDirectory(LabTopology lab, string node) => Path.Combine(lab.RunDir, node, "pods");

    public async Task RunAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(PodRunDir);
        AdoptSurvivors();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await SyncAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(FileCheckFrequency, time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        // The pods keep running: a kubelet restart does not restart its containers. `lab down` stops them by pid file.
        foreach (var pod in _pods.Values) pod.Process.Dispose();
        _pods.Clear();
    }

    /// <summary>
    /// Takes over the pods a previous agent left running. Whether each is kept is decided by the first sync: a pod is
    /// kept when its manifest still has the recorded hash; the others are restarted or stopped there.
    /// </summary>
    private void AdoptSurvivors()
    {
        foreach (var pidFile in Directory.EnumerateFiles(PodRunDir, "*.pid"))
        {
            var podName = Path.GetFileNameWithoutExtension(pidFile);
            var survivor = ChildProcess.FromPidFile(pidFile, time);
            if (survivor is null) continue;
            var hashFile = Path.Combine(PodRunDir, podName + ".hash");
            var hash = File.Exists(hashFile) ? File.ReadAllText(hashFile).Trim() : "";
            var manifest = podName + ".yaml";
            _pods[manifest] = new RunningPod(manifest, podName, hash, survivor, podName, null, time.GetUtcNow());
            log.WriteLine($"{time.GetUtcNow():O} {podName}: found pid {survivor.Pid} ({(survivor.IsAlive ? "alive" : "not running")}) from before this kubelet started");
        }
    }

    private async Task SyncAsync(CancellationToken ct)
    {
        var manifestsDir = Path.Join(Root, StaticPodPath);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var changed = false;
        if (Directory.Exists(manifestsDir))
        {
            foreach (var file in Directory.EnumerateFiles(manifestsDir).Order())
            {
                var name = Path.GetFileName(file);
                if (name.StartsWith('.')) continue; // the kubelet ignores hidden files
                byte[] bytes;
                try
                {
                    bytes = await File.ReadAllBytesAsync(file, ct).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    continue;
                }
                seen.Add(name);
                var hash = Convert.ToHexString(SHA256.HashData(bytes));
                if (_notRunnable.TryGetValue(name, out var skipped) && skipped == hash) continue;
                _notRunnable.Remove(name);
                if (_pods.TryGetValue(name, out var running))
                {
                    if (running.Hash == hash && running.Process.IsAlive)
                    {
                        if (running.Image is null) _pods[name] = running with { Image = TryParse(bytes, name)?.Image ?? "" };
                        continue;
                    }
                    log.WriteLine($"{time.GetUtcNow():O} {running.Component}: {(running.Hash == hash ? "process exited, restarting" : "manifest changed, restarting")}");
                    await StopPodAsync(running).ConfigureAwait(false);
                    _pods.Remove(name);
                }
                if (await StartPodAsync(name, bytes, hash, ct).ConfigureAwait(false)) changed = true;
                else _notRunnable[name] = hash; // said once; tried again when the manifest changes
            }
        }
        foreach (var gone in _pods.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            log.WriteLine($"{time.GetUtcNow():O} {_pods[gone].Component}: manifest removed, stopping");
            await StopPodAsync(_pods[gone]).ConfigureAwait(false);
            File.Delete(Path.Combine(PodRunDir, _pods[gone].PodName + ".hash"));
            _pods.Remove(gone);
            changed = true;
        }
        _status = _pods.Values.Where(p => p.Process.IsAlive)
            .Select(p => new StaticPodStatus(p.Manifest, p.Component, p.Hash, p.Process.Pid, p.Process.StartedAt, p.Image, p.SeenAt))
            .OrderBy(p => p.ManifestFile, StringComparer.Ordinal).ToList();
        if (changed) Changed?.Invoke();
    }

    private StaticPodManifest? TryParse(byte[] bytes, string manifestName)
    {
        try
        {
            return StaticPodManifest.Parse(bytes, manifestName);
        }
        catch (LayoutFormatException e)
        {
            log.WriteLine($"{time.GetUtcNow():O} {manifestName}: {e.Message}");
            return null;
        }
    }

    private async Task<bool> StartPodAsync(string manifestName, byte[] bytes, string hash, CancellationToken ct)
    {
        var seenAt = time.GetUtcNow();
        if (TryParse(bytes, manifestName) is not { } manifest) return false;
        var component = manifest.PodName ?? Path.GetFileNameWithoutExtension(manifestName);
        var command = StaticPodLauncher.Command(manifest, Root, lab.Dir, node.Name);
        if (command is null)
        {
            log.WriteLine($"{time.GetUtcNow():O} {component}: the lab has no stand-in for '{manifest.Binary}'; not started");
            return false;
        }
        var podName = Path.GetFileNameWithoutExtension(manifestName);
        LoadedFiles.SnapshotManifest(lab, node, podName, manifest);
        var process = await ChildProcess.StartAsync(new ChildProcessSpec(command.Value.FileName, command.Value.Arguments,
            Path.Combine(lab.LogDir, node.Name, podName + ".log"), Path.Combine(PodRunDir, podName + ".pid")), ct, time).ConfigureAwait(false);
        File.WriteAllText(Path.Combine(PodRunDir, podName + ".hash"), hash);
        log.WriteLine($"{time.GetUtcNow():O} {component}: started pid {process.Pid}");
        _pods[manifestName] = new RunningPod(manifestName, podName, hash, process, component, manifest.Image ?? "", seenAt);
        return true;
    }

    private async Task StopPodAsync(RunningPod pod)
    {
        try
        {
            await pod.Process.StopAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
            pod.Process.Dispose();
        }
        catch (InvalidOperationException e)
        {
            log.WriteLine($"{time.GetUtcNow():O} {pod.Component}: {e.Message}");
        }
    }
}
