using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>What a kubelet restart did.</summary>
public sealed record KubeletRestartResult(string Node, int? OldPid, int NewPid, DateTimeOffset ReadyAt, string? ClientCertificateBefore, string? ClientCertificateAfter);

/// <summary>
/// The lab's `systemctl restart kubelet`: stops the node agent (its static pods and the lab-aggregator pods' containers keep running, as containers do
/// under containerd), starts a new one, and waits until it has reported its Node Ready. With
/// <c>renewClientCertificate</c> the new kubelet is asked to renew its client certificate at once, and the restart
/// also waits until kubelet-client-current.pem points at a new certificate.
/// </summary>
public sealed class KubeletRestart(LabTopology lab, TimeProvider time)
{
    public async Task<KubeletRestartResult> RunAsync(string nodeName, bool renewClientCertificate, TimeSpan timeout, CancellationToken ct)
    {
        var node = lab.Node(nodeName);
        var before = KubeletState.Read(lab.RunDir, node.Name);
        var old = NodeAgentProcess.Find(lab, node, time);
        if (old is not null) await old.StopAsync(TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
        var trigger = KubeletAgent.RenewTriggerFile(lab, node.Name);
        if (renewClientCertificate) await File.WriteAllTextAsync(trigger, time.GetUtcNow().ToString("O"), ct).ConfigureAwait(false);
        using var agent = await NodeAgentProcess.StartAsync(lab, node, time, ct).ConfigureAwait(false);
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var state = KubeletState.Read(lab.RunDir, node.Name);
            var ready = state is { ReadyAt: not null } && state.Pid == agent.Pid;
            var renewed = !renewClientCertificate || (state is not null && state.Pid == agent.Pid && state.LastRenewalAt is not null);
            if (ready && renewed)
                return new KubeletRestartResult(node.Name, old?.Pid, agent.Pid, state!.ReadyAt!.Value, before?.ClientCertificateFile, state.ClientCertificateFile);
            if (!agent.IsAlive)
                throw new LabException($"The kubelet of {node.Name} exited right after its restart; see {NodeAgentProcess.LogFile(lab, node)}:\n{agent.ReadLogTail(8)}");
            if (time.GetUtcNow() > deadline)
            {
                var why = !ready
                    ? $"it has not reported node {node.Name} Ready" + (state?.Pid == agent.Pid && state.LastError is { } e ? $" (last error: {e})" : "")
                    : $"its client certificate was not renewed: no signer issued its CSR (is the controller-manager running and approving kubelet CSRs?)";
                throw new LabException($"The kubelet of {node.Name} (pid {agent.Pid}) did not come back within {timeout.TotalSeconds:0} s: {why}; see {NodeAgentProcess.LogFile(lab, node)}.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, ct).ConfigureAwait(false);
        }
    }
}
