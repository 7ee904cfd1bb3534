using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Control;

public sealed record LabUpOptions(string Dir, int ControlPlanes = 3, int Workers = 2, int Namespaces = 3, KeyAlgorithm Algorithm = KeyAlgorithm.EcdsaP256)
{
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Whether the prober runs. It is the lab's measuring instrument, not a cluster component: a lab whose users never
    /// read its report (tests of the API, the waits, the controllers) spares the handshakes it makes every second on
    /// every edge, on its side and on the servers'.
    /// </summary>
    public bool Prober { get; init; } = true;
}

/// <summary>A process of a running lab, as `lab status` shows it.</summary>
public sealed record LabProcessStatus(string Name, string Node, int Pid, bool Alive, DateTimeOffset? StartedAt);

/// <summary>
/// Brings a lab up and down: plans and provisions the nodes, starts one node agent per node (the kubelet stand-in
/// that runs the static pods from the manifests and the workload pods) and the HA endpoint, waits until etcd and every
/// API server are ready, seeds the cluster's objects and add-ons, and then starts the prober. Every process is detached and recorded in a pid file under DIR/run, so
/// `lab down` from another invocation stops them all.
/// </summary>
public sealed class LabController(TextWriter log, TimeProvider time)
{
    public async Task<LabTopology> UpAsync(LabUpOptions options, CancellationToken ct)
    {
        var dir = Path.GetFullPath(options.Dir);
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
        {
            var running = File.Exists(Path.Combine(dir, LabTopology.FileName)) && Processes(LabTopology.Load(dir)).Any(p => p.Alive);
            throw new LabException(running
                ? $"A lab is running in {dir}; stop it with 'kube-ca-rotate lab down --dir {dir}' first."
                : $"{dir} is not empty; choose a new directory for the lab or remove this one.");
        }
        Directory.CreateDirectory(dir);
        var lab = LabTopology.Plan(dir, options.ControlPlanes, options.Workers, options.Namespaces, options.Algorithm);
        lab.Save();
        var exe = LabExecutable.Command();
        log.WriteLine($"Provisioning {lab.ControlPlanes.Count()} control-plane and {lab.Workers.Count()} worker nodes in {dir} ...");
        await new LabProvisioner(new CertificateIssuer(time)).ProvisionAsync(lab, exe[0], ct).ConfigureAwait(false);
        try
        {
            foreach (var node in lab.Nodes)
                (await NodeAgentProcess.StartAsync(lab, node, time, ct).ConfigureAwait(false)).Dispose();
            await StartAsync(exe, ["lab", "component", "load-balancer", "--lab-dir", dir], Path.Combine(lab.LogDir, "endpoint.log"), EndpointPidFile(lab), ct).ConfigureAwait(false);
            log.WriteLine("Waiting for etcd and the API servers ...");
            await new LabReadiness(lab, time).WaitAsync(options.ReadyTimeout, ct).ConfigureAwait(false);
            log.WriteLine("Seeding cluster objects ...");
            await new LabSeeder(lab, time).SeedAsync(ct).ConfigureAwait(false);
            await new Aggregator.AggregatorInstaller(lab, time).InstallAsync(ct).ConfigureAwait(false);
            // Only now: started earlier it would record the start-up itself as availability failures.
            if (options.Prober)
                await StartAsync(exe, ["lab", "component", "prober", "--lab-dir", dir], Path.Combine(lab.LogDir, "prober.log"), ProberPidFile(lab), ct).ConfigureAwait(false);
        }
        catch
        {
            await DownAsync(dir, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return lab;
    }

    /// <summary>
    /// Stops every process of the lab: the prober, then the node agents (so nothing is restarted), then the static pods and
    /// the containers the agents left running (the lab-aggregator pods'), then the endpoint. Pid files are listed again
    /// after the agents have stopped: one stopping while it started a container recorded it after the first listing.
    /// </summary>
    public async Task<int> DownAsync(string dir, CancellationToken ct)
    {
        var lab = LabTopology.Load(dir);
        var stopped = 0;
        List<string> PidFiles() => Directory.Exists(lab.RunDir)
            ? Directory.EnumerateFiles(lab.RunDir, "*.pid", SearchOption.AllDirectories).OrderBy(StopOrder).ToList()
            : [];
        // prober and agents first; then what is recorded once they are gone
        foreach (var last in new[] { false, true })
        {
            foreach (var pidFile in PidFiles().Where(f => (StopOrder(f) > 0) == last))
            {
                var process = ChildProcess.FromPidFile(pidFile, time);
                if (process is null) continue;
                if (process.IsAlive) stopped++;
                await process.StopAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            }
        }
        var left = Processes(lab).Where(p => p.Alive).ToList();
        if (left.Count > 0)
            throw new LabException($"{left.Count} lab process(es) are still running after lab down, e.g. {left[0].Name} pid {left[0].Pid}; kill them by hand.");
        return stopped;
    }

    private static int StopOrder(string pidFile) => Path.GetFileName(pidFile) switch
    {
        "prober.pid" => -1, // first, so that stopping the lab is not recorded as failures
        "agent.pid" => 0,
        "endpoint.pid" => 2,
        _ => 1,
    };

    /// <summary>Every process the lab recorded, alive or not.</summary>
    public IReadOnlyList<LabProcessStatus> Processes(LabTopology lab)
    {
        if (!Directory.Exists(lab.RunDir)) return [];
        var list = new List<LabProcessStatus>();
        foreach (var pidFile in Directory.EnumerateFiles(lab.RunDir, "*.pid", SearchOption.AllDirectories).Order())
        {
            var p = ChildProcess.FromPidFile(pidFile, time);
            if (p is null) continue;
            var relative = Path.GetRelativePath(lab.RunDir, pidFile);
            var node = relative.Contains('/') ? relative[..relative.IndexOf('/')] : "-";
            list.Add(new LabProcessStatus(Path.GetFileNameWithoutExtension(pidFile), node, p.Pid, p.IsAlive, p.IsAlive ? p.StartedAt : null));
        }
        return list;
    }

    public static string AgentPidFile(LabTopology lab, LabNode node) => NodeAgentProcess.PidFile(lab, node);

    public static string EndpointPidFile(LabTopology lab) => Path.Combine(lab.RunDir, "endpoint.pid");

    public static string ProberPidFile(LabTopology lab) => Path.Combine(lab.RunDir, "prober.pid");

    private async Task StartAsync(IReadOnlyList<string> exe, IReadOnlyList<string> args, string logFile, string pidFile, CancellationToken ct)
    {
        var p = await ChildProcess.StartAsync(new ChildProcessSpec(exe[0], [.. exe.Skip(1), .. args], logFile, pidFile), ct, time).ConfigureAwait(false);
        p.Dispose();
    }
}
