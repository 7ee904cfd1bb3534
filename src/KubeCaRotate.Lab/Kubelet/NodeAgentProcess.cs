using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The node agent as an OS process (the lab's "kubelet service"): `kube-ca-rotate lab agent --dir DIR --node NODE`,
/// detached, logging to DIR/logs/NODE/agent.log, recorded in DIR/run/NODE/agent.pid. `lab up` starts it with
/// <see cref="StartAsync"/>; `lab restart-kubelet` stops it by pid file and starts it again the same way.
/// </summary>
public static class NodeAgentProcess
{
    public static string PidFile(LabTopology lab, LabNode node) => Path.Combine(lab.RunDir, node.Name, "agent.pid");

    public static string LogFile(LabTopology lab, LabNode node) => Path.Combine(lab.LogDir, node.Name, "agent.log");

    public static async Task<ChildProcess> StartAsync(LabTopology lab, LabNode node, TimeProvider time, CancellationToken ct)
    {
        var exe = LabExecutable.Command();
        return await ChildProcess.StartAsync(new ChildProcessSpec(exe[0], [.. exe.Skip(1), "lab", "agent", "--dir", lab.Dir, "--node", node.Name],
            LogFile(lab, node), PidFile(lab, node)), ct, time).ConfigureAwait(false);
    }

    /// <summary>The running agent, or null when none is recorded or it is not alive.</summary>
    public static ChildProcess? Find(LabTopology lab, LabNode node, TimeProvider time) =>
        ChildProcess.FromPidFile(PidFile(lab, node), time) is { IsAlive: true } running ? running : null;
}
