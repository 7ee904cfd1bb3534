using System.Security.Cryptography;
using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The kubelet's static pod loop, as the lab's node agent runs it: every fileCheckFrequency it reads the manifests
/// directory; a new manifest starts its pod, a manifest whose content changed restarts it (a bare touch does not:
/// the decision is made on the content hash, as the kubelet's config hash), a removed manifest stops it, and a pod
/// whose process died is started again (restartPolicy Always).
/// </summary>
public sealed class StaticPodRunner(LabTopology lab, LabNode node, TextWriter log, TimeProvider time)
{
    private readonly Dictionary<string, RunningPod> _pods = new(StringComparer.Ordinal);

    private sealed record RunningPod(string Manifest, string Hash, ChildProcess Process, string Component);

    private string Root => lab.NodeRoot(node);

    private string PodRunDir => Path.Combine(lab.RunDir, node.Name, "pods");

    public async Task RunAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(PodRunDir);
        await StopSurvivorsAsync().ConfigureAwait(false);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await SyncAsync(ct).ConfigureAwait(false);
                try
                {
                    await Task.Delay(lab.FileCheckFrequency, time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        finally
        {
            foreach (var pod in _pods.Values) await StopPodAsync(pod).ConfigureAwait(false);
            _pods.Clear();
        }
    }

    /// <summary>Pods left running by an agent that was killed are stopped: a restarted kubelet starts its pods anew.</summary>
    private async Task StopSurvivorsAsync()
    {
        foreach (var pidFile in Directory.EnumerateFiles(PodRunDir, "*.pid"))
        {
            var survivor = ChildProcess.FromPidFile(pidFile, time);
            if (survivor is not null) await survivor.StopAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task SyncAsync(CancellationToken ct)
    {
        var manifestsDir = Path.Join(Root, KubeadmPaths.Default.ManifestsDir);
        var seen = new HashSet<string>(StringComparer.Ordinal);
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
                if (_pods.TryGetValue(name, out var running))
                {
                    if (running.Hash == hash && running.Process.IsAlive) continue;
                    log.WriteLine($"{time.GetUtcNow():O} {running.Component}: {(running.Hash == hash ? "process exited, restarting" : "manifest changed, restarting")}");
                    await StopPodAsync(running).ConfigureAwait(false);
                    _pods.Remove(name);
                }
                await StartPodAsync(name, bytes, hash, ct).ConfigureAwait(false);
            }
        }
        foreach (var gone in _pods.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            log.WriteLine($"{time.GetUtcNow():O} {_pods[gone].Component}: manifest removed, stopping");
            await StopPodAsync(_pods[gone]).ConfigureAwait(false);
            _pods.Remove(gone);
        }
    }

    private async Task StartPodAsync(string manifestName, byte[] bytes, string hash, CancellationToken ct)
    {
        StaticPodManifest manifest;
        try
        {
            manifest = StaticPodManifest.Parse(bytes, manifestName);
        }
        catch (LayoutFormatException e)
        {
            log.WriteLine($"{time.GetUtcNow():O} {manifestName}: {e.Message}");
            return;
        }
        var component = manifest.PodName ?? Path.GetFileNameWithoutExtension(manifestName);
        var command = StaticPodLauncher.Command(manifest, Root, lab.Dir, node.Name);
        if (command is null)
        {
            log.WriteLine($"{time.GetUtcNow():O} {component}: the lab has no stand-in for '{manifest.Binary}'; not started");
            return;
        }
        var podName = Path.GetFileNameWithoutExtension(manifestName);
        LoadedFiles.SnapshotManifest(lab, node, podName, manifest);
        var process = await ChildProcess.StartAsync(new ChildProcessSpec(command.Value.FileName, command.Value.Arguments,
            Path.Combine(lab.LogDir, node.Name, podName + ".log"), Path.Combine(PodRunDir, podName + ".pid")), ct, time).ConfigureAwait(false);
        File.WriteAllText(Path.Combine(PodRunDir, podName + ".hash"), hash);
        log.WriteLine($"{time.GetUtcNow():O} {component}: started pid {process.Pid}");
        _pods[manifestName] = new RunningPod(manifestName, hash, process, component);
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
