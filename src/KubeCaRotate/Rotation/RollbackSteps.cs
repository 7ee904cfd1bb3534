using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The rollback: the operator's own kubeconfig goes back to its original bytes first, while every API server still
/// trusts old + new and serves a certificate of the original CA (after the rollback-switch, or before any switch);
/// then every file the rotation changed goes back to the exact bytes and mode of its backup, one control plane at a
/// time: the other files first, then the static pod manifests one by one in the order the rotation restarts them
/// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler), each pod waited for before the next — restored all
/// at once, the API server would restart while its local etcd member does; then every node's kubelet restarts;
/// objects the rotation changed come back from their backups; then the API servers' published trust and
/// kube-root-ca.crt are waited for, every workload rolls so its pods load the original trust again, and the staged
/// copies of the new CAs are removed.
/// </summary>
public static class RollbackSteps
{
    public static IReadOnlyList<Step> Build(IReadOnlyList<StagedCa> cas, RotationNodes nodes, RotationPaths paths, string rotationId, OperatorKubeconfig? operatorKubeconfig = null)
    {
        var steps = new List<Step>();
        if (operatorKubeconfig is not null) steps.Add(RestoreOperatorKubeconfig(operatorKubeconfig));
        var manifests = paths.Kubeadm.ManifestsDir + "/";
        // The static pods in the order the rotation restarts them on a control plane (PhaseSteps.ControlPlaneRestarts).
        string[] ordered = [paths.Kubeadm.EtcdManifest, paths.Kubeadm.ApiServerManifest, paths.Kubeadm.ControllerManagerManifest, paths.Kubeadm.SchedulerManifest];
        foreach (var cp in nodes.ControlPlanes)
        {
            steps.Add(Restore($"rollback/restore/{cp.Name}", $"restore every file the rotation changed on {cp.Name} but the static pod manifests", cp, paths, rotationId, PhaseSteps.RestartBatch,
                path => !path.StartsWith(manifests, StringComparison.Ordinal)));
            foreach (var manifest in ordered)
            {
                var component = NodePath.GetFileName(manifest).Replace(".yaml", "", StringComparison.Ordinal);
                steps.Add(Restore($"rollback/restore/{cp.Name}/{component}", $"restore {component}.yaml on {cp.Name} and wait for its pod", cp, paths, rotationId, PhaseSteps.RestartBatch,
                    path => path == manifest));
            }
            steps.Add(Restore($"rollback/restore/{cp.Name}/other-manifests", $"restore any other static pod manifest the rotation changed on {cp.Name}", cp, paths, rotationId, PhaseSteps.RestartBatch,
                path => path.StartsWith(manifests, StringComparison.Ordinal) && !ordered.Contains(path)));
        }
        foreach (var node in nodes.All)
        {
            if (!node.IsControlPlane) steps.Add(Restore($"rollback/restore/{node.Name}", $"restore every file the rotation changed on {node.Name}", node, paths, rotationId, PhaseSteps.KubeletBatch, _ => true));
            steps.Add(FileStep.RestartKubelet($"rollback/restart-kubelet/{node.Name}", ["11.2"], PhaseSteps.KubeletBatch, node));
        }
        steps.Add(new Step
        {
            Id = "rollback/objects", Name = "restore every API object the rotation changed", ProcedureRows = [], Batch = PhaseSteps.ClusterBatch, Node = "",
            Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.Wait("restore the backed-up objects (cluster-info)")]),
            IsDone = (_, _) => Task.FromResult(false),
            Verify = async (ctx, _, _, ct) =>
            {
                if (ctx.DryRun) return;
                var api = ctx.RequireApi("restore objects");
                foreach (var target in await api.ObjectBackup.BackedUpAsync(ctx.RotationId, ct).ConfigureAwait(false))
                    await api.ObjectBackup.RestoreAsync(ctx.RotationId, target, ct).ConfigureAwait(false);
            },
        });
        var clusterCa = cas.FirstOrDefault(c => c.Ca == CaKind.Cluster);
        var newTrust = cas.Where(c => c.Ca != CaKind.Etcd && !SameCertificate(c.Old.Certificate, c.New.Certificate)).Select(c => c.New.Certificate).ToList();
        if (newTrust.Count > 0)
        {
            steps.Add(new Step
            {
                Id = "rollback/extension-apiserver-authentication", Name = "delete extension-apiserver-authentication so the API servers write it with the original CAs only", ProcedureRows = ["15.2"], Batch = PhaseSteps.ClusterBatch, Node = "",
                Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.ObjectDelete(PhaseSteps.ExtensionApiserverAuthentication, "it still lists the new CAs")]),
                IsDone = (_, _) => Task.FromResult(false),
                Verify = async (ctx, _, _, ct) =>
                {
                    if (ctx.DryRun) return;
                    var api = ctx.RequireApi("read extension-apiserver-authentication");
                    var deadline = ctx.Time.GetUtcNow() + TimeSpan.FromMinutes(5);
                    while (true)
                    {
                        var exists = await api.Objects.ExistsAsync(PhaseSteps.ExtensionApiserverAuthentication, ct).ConfigureAwait(false);
                        var fields = new List<string?>();
                        foreach (var field in new[] { "client-ca-file", "requestheader-client-ca-file" })
                            fields.Add(await api.Objects.ReadFieldAsync(PhaseSteps.ExtensionApiserverAuthentication, field, ct).ConfigureAwait(false));
                        var held = fields.OfType<string>().SelectMany(f => PemBundle.Parse(f, PhaseSteps.ExtensionApiserverAuthentication.ToString()).Certificates).ToList();
                        if (exists && !held.Any(h => newTrust.Any(n => SameCertificate(h, n)))) return;
                        if (ctx.Time.GetUtcNow() > deadline)
                            throw new RotationException($"{PhaseSteps.ExtensionApiserverAuthentication} was not written again without the new CAs within 5 minutes; check that every API server runs with its restored files, then run rollback again.");
                        await Task.Delay(TimeSpan.FromMilliseconds(500), ctx.Time, ct).ConfigureAwait(false);
                    }
                },
            });
        }
        if (clusterCa is not null)
        {
            steps.Add(new Step
            {
                Id = "rollback/root-ca-published", Name = "wait for kube-root-ca.crt and the token Secrets to hold the original CA", ProcedureRows = ["4"], Batch = PhaseSteps.ClusterBatch, Node = "",
                Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.Wait("the controller-manager publishes its restored --root-ca-file")]),
                IsDone = (_, _) => Task.FromResult(false),
                Verify = async (ctx, _, _, ct) =>
                {
                    if (ctx.DryRun) return;
                    await ctx.RequireApi("watch kube-root-ca.crt").RootCa.WaitPublishedAsync([clusterCa.Old.Certificate], ct).ConfigureAwait(false);
                },
            });
        }
        if (newTrust.Count > 0)
        {
            // Pods rolled during the trust phase loaded old + new; roll them again so they load the original trust only.
            steps.Add(PhaseSteps.RollWorkloads("rollback", ["6"]));
        }
        foreach (var cp in nodes.ControlPlanes)
        {
            var staged = cas.SelectMany(ca => ca.Files(paths).Select(f => f.Path)).ToList();
            steps.Add(new Step
            {
                Id = $"rollback/cleanup/{cp.Name}", Name = $"remove the staged new CAs on {cp.Name}", ProcedureRows = [], Batch = PhaseSteps.CleanupBatch, Node = cp.Name,
                Propose = async (ctx, ct) =>
                {
                    var changes = new List<StepChange>();
                    foreach (var path in staged)
                        if (await ctx.Nodes[cp.Name].Access.ExistsAsync(path, ct).ConfigureAwait(false))
                            changes.Add(new StepChange.FileWrite(cp.Name, path, null, FileModes.Private, "the rotation was rolled back", Backup: false));
                    return changes;
                },
            });
        }
        return steps;
    }

    /// <summary>
    /// The operator's kubeconfig back to its bytes from before the rotation. Done first: from here on the rollback
    /// narrows the API servers' trust to the original CA, which would reject the new CA's client certificate the switch
    /// gave it, and a run stopped half-way must not leave the operator without a working kubeconfig.
    /// </summary>
    private static Step RestoreOperatorKubeconfig(OperatorKubeconfig own) => new()
    {
        Id = "rollback/operator-kubeconfig", Name = $"put the operator's kubeconfig {own.Path} back as it was before the rotation", ProcedureRows = ["9", "10"],
        Batch = PhaseSteps.ClusterBatch, Node = "",
        Propose = async (ctx, ct) => await own.RestoreNeededAsync(ctx.RotationId, ct).ConfigureAwait(false) is { } backup
            ? [new StepChange.Wait($"{own.Path}: the original bytes from {backup}")]
            : [],
        Verify = async (ctx, _, _, ct) =>
        {
            if (ctx.DryRun) return;
            await own.RestoreAsync(ctx.RotationId, ct).ConfigureAwait(false);
        },
    };

    /// <summary>Every backed-up file of the node that <paramref name="restores"/> takes back to its original bytes and mode (absent ones deleted), manifests last; waits for each restored manifest's pod.</summary>
    private static Step Restore(string id, string name, RotationNode node, RotationPaths paths, string rotationId, string batch, Func<string, bool> restores) => new()
    {
        Id = id, Name = name, ProcedureRows = [], Batch = batch, Node = node.Name,
        Propose = async (ctx, ct) =>
        {
            var access = ctx.Nodes[node.Name].Access;
            var backup = new FileBackup(access, paths, rotationId, ctx.Time);
            var changes = new List<StepChange.FileWrite>();
            foreach (var path in (await backup.BackedUpPathsAsync(ct).ConfigureAwait(false)).Where(restores))
            {
                var entry = await backup.EntryAsync(path, ct).ConfigureAwait(false);
                if (entry is null) continue;
                var current = await access.ReadFileAsync(path, ct).ConfigureAwait(false);
                if (!entry.Existed)
                {
                    if (current is not null) changes.Add(new StepChange.FileWrite(node.Name, path, null, FileModes.Private, "did not exist before the rotation", Backup: false));
                    continue;
                }
                var original = await access.ReadFileAsync(paths.BackupCopy(rotationId, path), ct).ConfigureAwait(false)
                    ?? throw new RotationException($"The backup of {node.Name}:{path} ({paths.BackupCopy(rotationId, path)}) is missing; restore it from another copy of the node's backup, then run rollback again.");
                var mode = (UnixFileMode)(entry.Mode ?? (int)FileModes.Private);
                if (current is null || !current.AsSpan().SequenceEqual(original) || await access.GetFileModeAsync(path, ct).ConfigureAwait(false) != mode)
                    changes.Add(new StepChange.FileWrite(node.Name, path, original, mode, "original bytes from the backup", Backup: false));
            }
            var manifests = paths.Kubeadm.ManifestsDir + "/";
            return changes.OrderBy(c => c.Path.StartsWith(manifests, StringComparison.Ordinal) ? 1 : 0).ThenBy(c => c.Path, StringComparer.Ordinal).ToList<StepChange>();
        },
        Verify = async (ctx, changes, at, ct) =>
        {
            await FileStep.ReadBack(ctx, changes, at, ct).ConfigureAwait(false);
            if (ctx.DryRun) return;
            var manifests = paths.Kubeadm.ManifestsDir + "/";
            foreach (var write in changes.OfType<StepChange.FileWrite>().Where(c => c.Path.StartsWith(manifests, StringComparison.Ordinal) && c.Content is not null))
            {
                var component = NodePath.GetFileName(write.Path).Replace(".yaml", "", StringComparison.Ordinal);
                if (ctx.Restarts is null) throw FileStep.NoObserver(node.Name, component);
                await ctx.Restarts.WaitStaticPodRestartedAsync(node.Name, component, at, ct).ConfigureAwait(false);
            }
        },
    };

    private static bool SameCertificate(X509Certificate2 a, X509Certificate2 b) => a.RawData.AsSpan().SequenceEqual(b.RawData);
}
