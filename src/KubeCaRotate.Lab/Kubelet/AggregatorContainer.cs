using System.Globalization;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Topology;
using ControllerManager = KubeCaRotate.Lab.ControllerManager;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The container of a lab-aggregator pod as the kubelet runs it: a process of its own,
/// `kube-ca-rotate lab component aggregator --lab-dir DIR --node NODE --pod NAMESPACE/NAME`, detached as a static pod
/// is (pid file DIR/run/NODE/workloads/NAMESPACE_NAME.pid, log DIR/logs/NODE/pod-NAMESPACE-NAME.log), so that, as under
/// containerd, it keeps serving while the kubelet restarts and the next kubelet adopts it (same process, same port, same
/// loaded files). Before its first start the kubelet mounts its Secret volume (<see cref="ServingPairAsync"/>, recorded
/// with <see cref="LoadedFiles"/> beside its service-account files); the process reads everything once
/// (<see cref="AggregatorEntrypoint"/>) and writes the port it serves on to NAMESPACE_NAME.port. Disposing the handle
/// leaves the process running; <see cref="StopAsync"/> ends it.
/// </summary>
public sealed class AggregatorContainer : IDisposable
{
    /// <summary>How long a new container may take to listen (a .NET process starting on a loaded machine, then one API read).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How long it may take to stop once told to (SIGTERM) before it is killed.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _process;
    private readonly string _portFile;

    private AggregatorContainer(ChildProcess process, string portFile, int port, bool adopted)
    {
        _process = process;
        _portFile = portFile;
        Port = port;
        Adopted = adopted;
    }

    /// <summary>The port it serves on, on the node's address.</summary>
    public int Port { get; }

    public int Pid => _process.Pid;

    /// <summary>True when it was left running by an earlier kubelet and taken over.</summary>
    public bool Adopted { get; }

    public static string PidFile(LabTopology lab, string node, string ns, string name) => Path.Combine(WorkloadPods.StateDir(lab, node), $"{ns}_{name}.pid");

    public static string PortFile(LabTopology lab, string node, string ns, string name) => Path.Combine(WorkloadPods.StateDir(lab, node), $"{ns}_{name}.port");

    public static string LogFile(LabTopology lab, string node, string ns, string name) => Path.Combine(lab.LogDir, node, WorkloadPods.Component(ns, name) + ".log");

    /// <summary>
    /// The pod's container: with <paramref name="adopted"/> (the state an earlier kubelet wrote for this pod) the
    /// process it left running, when it is alive; otherwise a new process (after stopping any left for an earlier pod
    /// of that name), on the adopted pod's earlier port when there is one. Returns once it listens. Throws
    /// <see cref="InvalidOperationException"/> with one sentence when it exits or does not listen in time.
    /// </summary>
    public static async Task<AggregatorContainer> RunAsync(LabTopology lab, LabNode node, string ns, string name, WorkloadPodState? adopted, TextWriter log, TimeProvider time, CancellationToken ct)
    {
        var pidFile = PidFile(lab, node.Name, ns, name);
        var portFile = PortFile(lab, node.Name, ns, name);
        var left = ChildProcess.FromPidFile(pidFile, time);
        if (adopted is not null && left is { IsAlive: true })
        {
            var port = await ListeningPortAsync(left, portFile, name, time, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: container pid {left.Pid} kept running, serving on port {port}");
            return new AggregatorContainer(left, portFile, port, adopted: true);
        }
        left?.Dispose();
        // not this pod's (or no longer running): out of the way before the new one starts
        await StopLeftAsync(lab, node.Name, ns, name, ct).ConfigureAwait(false);
        var exe = LabExecutable.Command();
        string[] args = [.. exe.Skip(1), "lab", "component", "aggregator", "--lab-dir", lab.Dir, "--node", node.Name, "--pod", $"{ns}/{name}"];
        if (adopted?.ServingPort is { } earlier) args = [.. args, "--port", earlier.ToString(CultureInfo.InvariantCulture)];
        var process = await ChildProcess.StartAsync(new ChildProcessSpec(exe[0], args, LogFile(lab, node.Name, ns, name), pidFile), ct, time).ConfigureAwait(false);
        try
        {
            var port = await ListeningPortAsync(process, portFile, name, time, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} pod {ns}/{name}: container started, pid {process.Pid}, serving on port {port}");
            return new AggregatorContainer(process, portFile, port, adopted: false);
        }
        catch (InvalidOperationException)
        {
            await process.StopAsync(StopGrace, CancellationToken.None).ConfigureAwait(false);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the process has written the port it listens on.</summary>
    private static async Task<int> ListeningPortAsync(ChildProcess process, string portFile, string name, TimeProvider time, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + StartTimeout;
        while (true)
        {
            if (File.Exists(portFile) && int.TryParse(await File.ReadAllTextAsync(portFile, ct).ConfigureAwait(false), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                return port;
            if (!process.IsAlive)
            {
                var tail = process.ReadLogTail(4);
                throw new InvalidOperationException($"its container (pid {process.Pid}) exited before it listened{(tail.Length > 0 ? $": {tail.ReplaceLineEndings(" ")}" : "")}");
            }
            if (time.GetUtcNow() > deadline)
                throw new InvalidOperationException($"its container (pid {process.Pid}) did not listen within {StartTimeout.TotalSeconds:0} s; see the log of pod {name}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the process left for a pod that no longer runs here (deleted while no kubelet ran), if there is one.</summary>
    public static async Task StopLeftAsync(LabTopology lab, string node, string ns, string name, CancellationToken ct)
    {
        if (ChildProcess.FromPidFile(PidFile(lab, node, ns, name)) is { } left)
        {
            await left.StopAsync(StopGrace, ct).ConfigureAwait(false);
            left.Dispose();
        }
        File.Delete(PortFile(lab, node, ns, name));
    }

    /// <summary>
    /// tls.crt and tls.key of the pod's first Secret volume, read as the node, keyed by where the container finds them:
    /// the kubelet mounting the volume before the container starts.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, byte[]>> ServingPairAsync(ApiServerConnection kubelet, JsonObject pod, CancellationToken ct)
    {
        var ns = ControllerManager.WorkloadPods.Namespace(pod);
        var secretName = (pod["spec"]?["volumes"] as JsonArray ?? []).Select(v => ControllerManager.WorkloadPods.Str(v?["secret"]?["secretName"])).FirstOrDefault(s => s.Length > 0)
            ?? throw new InvalidOperationException($"The pod {ns}/{ControllerManager.WorkloadPods.Name(pod)} mounts no Secret with its serving certificate.");
        var reply = await kubelet.GetAsync($"api/v1/namespaces/{ns}/secrets/{secretName}", ct).ConfigureAwait(false);
        if (!reply.Ok) throw new InvalidOperationException($"secret \"{secretName}\" cannot be read for the pod's volume: {reply.Describe()}");
        byte[] Field(string key) => ControllerManager.WorkloadPods.Str(reply.Body?["data"]?[key]) is { Length: > 0 } b64 ? Convert.FromBase64String(b64)
            : throw new InvalidOperationException($"secret {ns}/{secretName} has no {key}.");
        return new Dictionary<string, byte[]>
        {
            [$"{AggregatorNames.ServingCertDir}/tls.crt"] = Field("tls.crt"),
            [$"{AggregatorNames.ServingCertDir}/tls.key"] = Field("tls.key"),
        };
    }

    /// <summary>Ends the container (SIGTERM, SIGKILL after <see cref="StopGrace"/>) and removes its pid and port files.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await _process.StopAsync(StopGrace, ct).ConfigureAwait(false);
        File.Delete(_portFile);
    }

    /// <summary>Lets go of the process: it keeps running (the kubelet stops, its containers do not).</summary>
    public void Dispose() => _process.Dispose();
}
