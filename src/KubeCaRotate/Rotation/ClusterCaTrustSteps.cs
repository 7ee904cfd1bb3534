using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The trust phase for the cluster CA on node files, in the order of reference/procedure.md and
/// reference/kubeadm-pki.md §9. After it every trust store on the nodes holds old + new, the old CA still signs
/// everything, and each component that reads its trust only at start has been restarted:
/// <list type="number">
/// <item>stage (row 1): the new CA pair under .kube-ca-rotate/staged on every control-plane node (key 0600);</item>
/// <item>signer copy (row 3): a single-certificate copy of the old CA beside it, and KCM's --cluster-signing-cert-file
/// and --client-ca-file pointed at it, one control plane at a time (the manifest change restarts KCM; wait), so that
/// the signer never reads a bundle (§9.2);</item>
/// <item>bundle (rows 2, 7): ca.crt = old + new on every control-plane node, the certificate of ca.key first (§9.1);
/// the API server reloads --client-ca-file by itself;</item>
/// <item>kubeconfigs (row 10): admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf CA data old + new;</item>
/// <item>restarts, one control plane at a time (rows 2, 4, 11.5): KCM (reads --root-ca-file and its kubeconfig at
/// start; afterwards it publishes both CAs to kube-root-ca.crt and token Secrets), then the scheduler (scheduler.conf);</item>
/// <item>kubelets in waves (row 11.2): the clientCAFile's file and kubelet.conf CA data old + new, then restart the
/// kubelet with the inventory's command and wait for the node.</item>
/// </list>
/// Not here yet (API objects, next slice): waiting for kube-root-ca.crt and token Secrets (row 4), restarting
/// in-cluster-config pods (rows 5-6), cluster-info (rows 12-13).
/// </summary>
public static class ClusterCaTrustSteps
{
    public const string StageBatch = "stage";
    public const string SignerBatch = "signer-copy";
    public const string BundleBatch = "ca-bundle";
    public const string KubeconfigBatch = "kubeconfigs";
    public const string RestartBatch = "control-plane-restarts";
    public const string KubeletBatch = "kubelets";

    public static IReadOnlyList<Step> Build(StagedCa ca, RotationNodes nodes, RotationPaths paths)
    {
        if (ca.Ca != CaKind.Cluster) throw new ArgumentException("These are the cluster CA's steps.", nameof(ca));
        var prefix = "trust/" + RotationPaths.Name(ca.Ca);
        var kubeadm = paths.Kubeadm;
        var oldPem = Encoding.ASCII.GetBytes(ca.Old.CertificatePem());
        var steps = new List<Step>();

        foreach (var cp in nodes.ControlPlanes)
        {
            steps.Add(new Step
            {
                Id = $"{prefix}/stage/{cp.Name}", Name = $"stage the new cluster CA on {cp.Name}", ProcedureRows = ["1"], Batch = StageBatch, Node = cp.Name,
                Propose = async (ctx, ct) =>
                {
                    var access = ctx.Nodes[cp.Name].Access;
                    var changes = new List<StepChange>();
                    foreach (var (path, content, mode) in ca.Files(paths))
                    {
                        var current = await access.ReadFileAsync(path, ct).ConfigureAwait(false);
                        if (current is null || !current.AsSpan().SequenceEqual(content))
                            changes.Add(new StepChange.FileWrite(cp.Name, path, content, mode, "staged new CA", Backup: false));
                    }
                    return changes;
                },
            });
        }

        foreach (var cp in nodes.ControlPlanes)
        {
            var signer = paths.SignerCopy(ca.Ca);
            steps.Add(FileStep.Edit($"{prefix}/signer-copy/{cp.Name}", $"copy the signing CA to a single-certificate file on {cp.Name}", ["3"], SignerBatch, cp.Name,
                signer, FileModes.Public, "KCM signer reads one certificate",
                (_, current, _) => Task.FromResult<byte[]?>(current is not null && PemBundle.Parse(Encoding.ASCII.GetString(current), signer) is { Count: 1 } b && b.Contains(ca.Old.Certificate) ? current : oldPem)));
            steps.Add(FileStep.Edit($"{prefix}/kcm-signer-flags/{cp.Name}", $"point the controller-manager's signer at the copy on {cp.Name}", ["3"], SignerBatch, cp.Name,
                kubeadm.ControllerManagerManifest, FileModes.Private, "--cluster-signing-cert-file, --client-ca-file → single-certificate copy",
                (_, current, _) => Task.FromResult(current is null ? null : PointAt(current, signer, paths.CaCert(ca.Ca), $"{cp.Name}:{kubeadm.ControllerManagerManifest}", "cluster-signing-cert-file", "client-ca-file"))) with
            {
                Verify = WaitAfterManifest(cp.Name, "kube-controller-manager"),
            });
        }

        foreach (var cp in nodes.ControlPlanes)
        {
            steps.Add(FileStep.Edit($"{prefix}/bundle/{cp.Name}", $"trust old + new in ca.crt on {cp.Name}", ["2", "7"], BundleBatch, cp.Name,
                paths.CaCert(ca.Ca), FileModes.Public, "old + new, the certificate of ca.key first",
                async (ctx, current, ct) => TrustStoreEdits.CaBundleFile(current, TrustStoreEdit.AddAccepted(ca.New.Certificate),
                    await KeyBesideAsync(ctx.Nodes[cp.Name].Access, paths.CaKey(ca.Ca), ct).ConfigureAwait(false), $"{cp.Name}:{paths.CaCert(ca.Ca)}")));
        }

        foreach (var cp in nodes.ControlPlanes)
        {
            foreach (var conf in new[] { kubeadm.AdminConf, kubeadm.SuperAdminConf, kubeadm.ControllerManagerConf, kubeadm.SchedulerConf })
            {
                steps.Add(FileStep.Edit($"{prefix}/kubeconfig/{cp.Name}/{NodePath.GetFileName(conf)}", $"trust old + new in {NodePath.GetFileName(conf)} on {cp.Name}", ["10"], KubeconfigBatch, cp.Name,
                    conf, FileModes.Private, "certificate-authority-data old + new",
                    (_, current, _) => Task.FromResult(current is null ? null : (byte[]?)TrustStoreEdits.KubeconfigCaData(current, TrustStoreEdit.AddAccepted(ca.New.Certificate), ca.Old.Certificate, $"{cp.Name}:{conf}"))));
            }
        }

        foreach (var cp in nodes.ControlPlanes)
        {
            steps.Add(FileStep.RestartStaticPod($"{prefix}/restart-kcm/{cp.Name}", $"restart the controller-manager on {cp.Name} (--root-ca-file, controller-manager.conf)", ["2", "4"], RestartBatch, cp,
                "kube-controller-manager", kubeadm.ControllerManagerManifest));
            steps.Add(FileStep.RestartStaticPod($"{prefix}/restart-scheduler/{cp.Name}", $"restart the scheduler on {cp.Name} (scheduler.conf)", ["10", "11.5"], RestartBatch, cp,
                "kube-scheduler", kubeadm.SchedulerManifest));
        }

        foreach (var node in nodes.All)
        {
            steps.Add(new Step
            {
                Id = $"{prefix}/kubelet-client-ca/{node.Name}", Name = $"trust old + new in the kubelet's clientCAFile on {node.Name}", ProcedureRows = ["11.2"], Batch = KubeletBatch, Node = node.Name,
                Propose = async (ctx, ct) =>
                {
                    var access = ctx.Nodes[node.Name].Access;
                    var config = await access.ReadFileAsync(kubeadm.KubeletConfigFile, ct).ConfigureAwait(false)
                        ?? throw new RotationException($"{node.Name}:{kubeadm.KubeletConfigFile} is missing; the kubelet's configuration is needed to find its clientCAFile: restore it, or pass the kubelet directory in the inventory.");
                    var target = TrustStoreEdits.KubeletClientCaFile(config, $"{node.Name}:{kubeadm.KubeletConfigFile}");
                    if (string.IsNullOrEmpty(target)) return [];
                    var current = await access.ReadFileAsync(target, ct).ConfigureAwait(false);
                    var key = target == paths.CaCert(ca.Ca) ? await KeyBesideAsync(access, paths.CaKey(ca.Ca), ct).ConfigureAwait(false) : null;
                    var next = TrustStoreEdits.CaBundleFile(current, TrustStoreEdit.AddAccepted(ca.New.Certificate), key, $"{node.Name}:{target}");
                    return current is not null && next.AsSpan().SequenceEqual(current) ? [] : [new StepChange.FileWrite(node.Name, target, next, FileModes.Public, "kubelet clientCAFile old + new")];
                },
            });
            steps.Add(FileStep.Edit($"{prefix}/kubelet-conf/{node.Name}", $"trust old + new in kubelet.conf on {node.Name}", ["11.2"], KubeletBatch, node.Name,
                kubeadm.KubeletConf, FileModes.Private, "certificate-authority-data old + new",
                (_, current, _) => Task.FromResult(current is null ? null : (byte[]?)TrustStoreEdits.KubeconfigCaData(current, TrustStoreEdit.AddAccepted(ca.New.Certificate), ca.Old.Certificate, $"{node.Name}:{kubeadm.KubeletConf}"))));
            steps.Add(FileStep.RestartKubelet($"{prefix}/restart-kubelet/{node.Name}", ["11.2"], KubeletBatch, node));
        }
        return steps;
    }

    /// <summary>Sets each flag to <paramref name="copy"/> when it points at <paramref name="caFile"/> (kubeadm's default); a flag set to anything else, or empty (external CA), is left alone.</summary>
    private static byte[]? PointAt(byte[] manifest, string copy, string caFile, string source, params string[] flags)
    {
        var result = manifest;
        foreach (var flag in flags)
        {
            if (TrustStoreEdits.ManifestFlagValue(result, flag, source) == caFile)
                result = TrustStoreEdits.ManifestFlag(result, flag, copy, source);
        }
        return result;
    }

    private static async Task<PrivateKey?> KeyBesideAsync(INodeAccess node, string keyPath, CancellationToken ct) =>
        await node.ReadFileAsync(keyPath, ct).ConfigureAwait(false) is { } key ? PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{keyPath}") : null;

    private static Func<StepContext, IReadOnlyList<StepChange>, DateTimeOffset, CancellationToken, Task> WaitAfterManifest(string node, string component) =>
        async (ctx, changes, at, ct) =>
        {
            foreach (var write in changes.OfType<StepChange.FileWrite>())
            {
                var now = await ctx.Nodes[write.Node].Access.ReadFileAsync(write.Path, ct).ConfigureAwait(false);
                if (now is null || write.Content is null || !now.AsSpan().SequenceEqual(write.Content))
                    throw new RotationException($"{write.Node}:{write.Path} does not hold what was just written to it; something else changes it: find what, stop it, and run again.");
            }
            if (ctx.DryRun) return;
            if (ctx.Restarts is null) throw new RotationException($"Nothing can watch {component} on {node} come back after its restart (no cluster connection was given); run with --kubeconfig or an inventory naming one.");
            await ctx.Restarts.WaitStaticPodRestartedAsync(node, component, at, ct).ConfigureAwait(false);
        };
}
