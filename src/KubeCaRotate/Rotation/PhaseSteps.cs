using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The steps of each phase for the CAs being rotated, in the order of reference/procedure.md and
/// reference/kubeadm-pki.md §9. Every file edit is a pure, idempotent function of the file's bytes, so a step is done
/// when its function changes nothing; restarts are waited for; control planes restart one at a time, kubelets in waves.
/// <list type="bullet">
/// <item><b>trust</b> (<see cref="Trust"/>): stage the new CAs (row 1); give KCM's signer a single-certificate copy
/// (row 3, §9.2); every CA file old + new with the certificate of the key beside it first (rows 2, 7, §9.1); kubeconfig
/// CA data old + new (row 10); one control plane at a time restart etcd (its trusted CAs, §9.6), the API server
/// (--etcd-cafile), KCM (--root-ca-file) and the scheduler (scheduler.conf); every kubelet's clientCAFile and
/// kubelet.conf old + new and a restart (row 11.2); wait for KCM to publish both CAs in kube-root-ca.crt and token
/// Secrets (row 4); cluster-info old + new (rows 12-13); wait for extension-apiserver-authentication to carry the new
/// CAs; roll every workload so in-cluster clients and aggregated API servers load the new trust (rows 5, 6, 11.1).</item>
/// <item><b>switch</b> (<see cref="Switch"/>): the new pair becomes the active one beside the CA file, new certificate
/// first, and the signer copy follows (row 3); every leaf and kubeconfig client certificate is re-issued from the new CA
/// with its own key, subject, SANs and usages (rows 9, 11.4); one control plane at a time etcd, the API server, KCM and
/// the scheduler restart; every kubelet gets a client certificate from the new CA and restarts (row 11.3). In renew mode
/// only the renewed CA certificate leads; no leaf is re-issued.</item>
/// <item><b>distrust</b> (<see cref="Distrust"/>): every CA file and kubeconfig holds the new CA alone; one control plane at
/// a time etcd and the API server restart and KCM's flags go back to kubeadm's paths (a restart that also loads
/// --root-ca-file); kubelets likewise (row 15.3); extension-apiserver-authentication is deleted so the API servers write
/// it anew without the old CAs (§9.4); kube-root-ca.crt and token Secrets hold the new CA alone (row 15.1); cluster-info
/// too; every workload rolls again (row 15.1); the kubeadm-certs Secret is deleted (§9.9); the staged copies go.</item>
/// </list>
/// <para><b>--cross-sign</b> (<see cref="StagedCa.CrossSigned"/>): the switch writes every serving leaf it re-issues
/// (apiserver.crt, etcd/server.crt, etcd/peer.crt: the leaves with serverAuth) as the leaf followed by the new CA signed by
/// the old one. kube-apiserver (--tls-cert-file) and etcd (--cert-file, --peer-cert-file) load such a file with Go's
/// tls.X509KeyPair and send the whole chain; a Go client puts everything after the leaf into its verifier's
/// intermediates, so a client that still trusts only the old CA (a user's kubeconfig, a pod not yet restarted, an
/// external etcd client) accepts the new-chain server through leaf → cross-signed new CA → old CA. Client certificates
/// (apiserver-kubelet-client, front-proxy-client, the etcd clients, kubeconfig client-certificate-data, the kubelet's)
/// stay a leaf alone: from the trust phase until complete every server that verifies them (API servers, etcd, kubelets,
/// aggregated API servers) already trusts old + new, so a chain would be sent on every handshake for nobody. The
/// distrust phase first writes every serving leaf alone again (kubeadm's layout; `kubeadm certs renew` writes a leaf
/// alone too), since from then on the old CA is distrusted and nobody may rely on it; the API servers and etcd re-read
/// these files on new handshakes, so no restart is needed. A rollback from the switch re-issues the leaves from the old
/// CA without a chain and then restores the original bytes.</para>
/// </summary>
public sealed class PhaseSteps(IReadOnlyList<StagedCa> cas, RotationNodes nodes, RotationPaths paths, RotationMode mode, CertificateIssuer issuer, TimeSpan? leafValidity = null)
{
    public const string StageBatch = "stage";
    public const string SignerBatch = "signer-copy";
    public const string BundleBatch = "ca-bundles";
    public const string KubeconfigBatch = "kubeconfigs";
    public const string RestartBatch = "control-plane-restarts";
    public const string KubeletBatch = "kubelets";
    public const string ClusterBatch = "cluster-objects";
    public const string ActivateBatch = "activate";
    public const string ReissueBatch = "reissue";
    public const string CleanupBatch = "cleanup";

    public static readonly ObjectTarget ClusterInfo = new("v1", "ConfigMap", "kube-public", "cluster-info");
    public static readonly ObjectTarget ExtensionApiserverAuthentication = new("v1", "ConfigMap", "kube-system", "extension-apiserver-authentication");
    public static readonly ObjectTarget KubeadmCerts = new("v1", "Secret", "kube-system", "kubeadm-certs");

    private KubeadmPaths Kubeadm => paths.Kubeadm;

    private StagedCa? Cluster => cas.FirstOrDefault(c => c.Ca == CaKind.Cluster);

    private StagedCa? FrontProxy => cas.FirstOrDefault(c => c.Ca == CaKind.FrontProxy);

    private StagedCa? Etcd => cas.FirstOrDefault(c => c.Ca == CaKind.Etcd);

    /// <summary>The batch policies of a run: file edits on all nodes at once, restarts one control plane at a time, kubelets one first (a canary) and then in waves.</summary>
    public static IReadOnlyList<BatchPolicy> Batches(int kubeletParallelism) =>
    [
        new(StageBatch, int.MaxValue), new(BundleBatch, int.MaxValue), new(KubeconfigBatch, int.MaxValue), new(ActivateBatch, int.MaxValue),
        new(ReissueBatch, int.MaxValue), new(CleanupBatch, int.MaxValue), new(SignerBatch, 1), new(RestartBatch, 1),
        new(KubeletBatch, kubeletParallelism, Canary: true), new(ClusterBatch, 1),
    ];

    // ---------------------------------------------------------------- trust

    public IReadOnlyList<Step> Trust()
    {
        var steps = new List<Step>();
        foreach (var cp in nodes.ControlPlanes) steps.Add(Stage(cp.Name));

        if (Cluster is { } cluster)
        {
            var signer = paths.SignerCopy(CaKind.Cluster);
            var oldPem = Encoding.ASCII.GetBytes(cluster.Old.CertificatePem());
            foreach (var cp in nodes.ControlPlanes)
            {
                steps.Add(FileStep.Edit($"trust/ca/signer-copy/{cp.Name}", $"copy the signing CA to a single-certificate file on {cp.Name}", ["3"], SignerBatch, cp.Name,
                    signer, FileModes.Public, "KCM signer reads one certificate",
                    (_, current, _) => Task.FromResult<byte[]?>(current is not null && PemBundle.Parse(Encoding.ASCII.GetString(current), signer) is { Count: 1 } b && b.Contains(cluster.Old.Certificate) ? current : oldPem)));
                steps.Add(FileStep.Edit($"trust/ca/kcm-signer-flags/{cp.Name}", $"point the controller-manager's signer at the copy on {cp.Name}", ["3"], SignerBatch, cp.Name,
                    Kubeadm.ControllerManagerManifest, FileModes.Private, "--cluster-signing-cert-file, --client-ca-file → single-certificate copy",
                    (_, current, _) => Task.FromResult(current is null ? null : PointAt(current, from: paths.CaCert(CaKind.Cluster), to: signer, $"{cp.Name}:{Kubeadm.ControllerManagerManifest}"))) with
                {
                    Verify = WaitAfterManifest(cp.Name, "kube-controller-manager"),
                });
            }
        }

        foreach (var cp in nodes.ControlPlanes)
            foreach (var ca in cas)
                steps.Add(CaFile("trust", cp.Name, ca, TrustStoreEdit.AddAccepted(ca.New.Certificate), ["2", "7"], "old + new, the certificate of the key beside it first", leadWith: null));

        if (Cluster is { } c1)
            steps.AddRange(KubeconfigCaSteps("trust", c1, TrustStoreEdit.AddAccepted(c1.New.Certificate), "certificate-authority-data old + new"));

        steps.AddRange(ControlPlaneRestarts("trust", restartEtcd: Etcd is not null, restartApiServer: Etcd is not null, restartKcm: Cluster is not null, restartScheduler: Cluster is not null));

        if (Cluster is { } c2)
            foreach (var node in nodes.All)
                steps.AddRange(KubeletTrust("trust", node, c2, TrustStoreEdit.AddAccepted(c2.New.Certificate), ["11.2"], "old + new"));

        if (Cluster is { } c3)
        {
            steps.Add(WaitRootCa("trust", [c3.Old.Certificate, c3.New.Certificate], ["4"]));
            steps.Add(ClusterInfoStep("trust", c3, TrustStoreEdit.AddAccepted(c3.New.Certificate)));
        }
        if (Cluster is not null || FrontProxy is not null)
        {
            steps.Add(WaitExtensionAuthentication("trust", mustHold: [.. new[] { Cluster?.New.Certificate, FrontProxy?.New.Certificate }.OfType<X509Certificate2>()], mustNotHold: []));
            steps.Add(RollWorkloads("trust", ["5", "6", "11.1"]));
        }
        return steps;
    }

    // ---------------------------------------------------------------- switch

    /// <summary>
    /// The switch phase; <paramref name="phase"/> names its step ids. A rollback from the switch runs it with old and new
    /// swapped and phase "rollback-switch" (the old pair leads again, every leaf is issued by the old CA), so that
    /// restoring the original bytes afterwards never meets a peer that presents a certificate its trust lacks.
    /// </summary>
    public IReadOnlyList<Step> Switch(string phase = "switch", bool stage = true)
    {
        var steps = new List<Step>();
        if (stage)
            foreach (var cp in nodes.ControlPlanes) steps.Add(Stage(cp.Name));
        foreach (var cp in nodes.ControlPlanes)
            foreach (var ca in cas)
                steps.Add(Activate(cp.Name, ca, phase));
        if (mode == RotationMode.Renew) return steps;

        foreach (var cp in nodes.ControlPlanes)
        {
            foreach (var ca in cas)
                foreach (var leaf in KubeadmCatalog.Leaves.Where(l => l.Ca == ca.Ca))
                {
                    var chain = leaf.Serves ? ca.CrossSigned : null;
                    steps.Add(ReissueLeafFile($"{phase}/{RotationPaths.Name(ca.Ca)}/reissue/{cp.Name}/{leaf.Name}",
                        $"re-issue {leaf.CertFile} from the new {RotationPaths.Name(ca.Ca)} on {cp.Name}{(chain is null ? "" : ", followed by the cross-signed new CA")}",
                        ReissueBatch, cp.Name, ca, Kubeadm.Pki(leaf.CertFile), Kubeadm.Pki(leaf.KeyFile), ["11.4"], chain));
                }
            if (Cluster is { } cluster)
                foreach (var conf in new[] { Kubeadm.AdminConf, Kubeadm.SuperAdminConf, Kubeadm.ControllerManagerConf, Kubeadm.SchedulerConf })
                    steps.Add(ReissueKubeconfigClient($"{phase}/ca/reissue/{cp.Name}/{NodePath.GetFileName(conf)}", ReissueBatch, cp.Name, cluster, conf, ["9"]));
        }

        steps.AddRange(ControlPlaneRestarts(phase, restartEtcd: Etcd is not null, restartApiServer: true, restartKcm: Cluster is not null, restartScheduler: Cluster is not null));

        if (Cluster is { } c)
        {
            foreach (var node in nodes.All)
            {
                steps.Add(ReissueKubeconfigClient($"{phase}/ca/reissue/{node.Name}/kubelet.conf", KubeletBatch, node.Name, c, Kubeadm.KubeletConf, ["11.3"]));
                steps.Add(FileStep.RestartKubelet($"{phase}/ca/restart-kubelet/{node.Name}", ["11.3"], KubeletBatch, node));
            }
        }
        return steps;
    }

    // ---------------------------------------------------------------- distrust

    public IReadOnlyList<Step> Distrust()
    {
        var steps = new List<Step>();
        foreach (var cp in nodes.ControlPlanes)
            foreach (var ca in cas.Where(c => c.CrossSigned is not null))
                foreach (var leaf in KubeadmCatalog.Leaves.Where(l => l.Ca == ca.Ca && l.Serves))
                    steps.Add(LeafAlone(cp.Name, ca, leaf));
        foreach (var cp in nodes.ControlPlanes)
            foreach (var ca in cas)
                steps.Add(CaFile("distrust", cp.Name, ca, TrustStoreEdit.SetOnly(ca.New.Certificate), ["15.2"], "the new CA alone", leadWith: ca.New.Certificate));

        if (Cluster is { } c1)
            steps.AddRange(KubeconfigCaSteps("distrust", c1, TrustStoreEdit.SetOnly(c1.New.Certificate), "certificate-authority-data: the new CA alone"));

        steps.AddRange(ControlPlaneRestarts("distrust", restartEtcd: Etcd is not null, restartApiServer: Etcd is not null, restartKcm: Cluster is not null, restartScheduler: Cluster is not null,
            kcmFlagsBack: Cluster is not null));

        if (Cluster is { } c2)
            foreach (var node in nodes.All)
                steps.AddRange(KubeletTrust("distrust", node, c2, TrustStoreEdit.SetOnly(c2.New.Certificate), ["15.3"], "the new CA alone"));

        if (Cluster is not null || FrontProxy is not null)
        {
            steps.Add(new Step
            {
                Id = "distrust/extension-apiserver-authentication/delete", Name = "delete extension-apiserver-authentication so the API servers write it without the old CAs",
                ProcedureRows = ["15.2"], Batch = ClusterBatch, Node = "",
                Propose = async (ctx, ct) => ctx.Api is null
                    ? [new StepChange.ObjectDelete(ExtensionApiserverAuthentication, "it only ever grows (kubeadm-pki.md §9.4)")]
                    : await ctx.Api.Objects.ExistsAsync(ExtensionApiserverAuthentication, ct).ConfigureAwait(false) && await HoldsAnyAsync(ctx.Api, ExtensionApiserverAuthentication, OldCertificates(), ct).ConfigureAwait(false)
                        ? [new StepChange.ObjectDelete(ExtensionApiserverAuthentication, "it only ever grows (kubeadm-pki.md §9.4)")]
                        : [],
            });
            steps.Add(WaitExtensionAuthentication("distrust", mustHold: [.. new[] { Cluster?.New.Certificate, FrontProxy?.New.Certificate }.OfType<X509Certificate2>()], mustNotHold: OldCertificates()));
        }
        if (Cluster is { } c3)
        {
            steps.Add(WaitRootCa("distrust", [c3.New.Certificate], ["15.1"]));
            steps.Add(ClusterInfoStep("distrust", c3, TrustStoreEdit.SetOnly(c3.New.Certificate)));
        }
        if (Cluster is not null || FrontProxy is not null) steps.Add(RollWorkloads("distrust", ["15.1", "11.6"]));
        steps.Add(new Step
        {
            Id = "distrust/kubeadm-certs", Name = "delete the kubeadm-certs Secret (it holds the old CAs for joining control planes)", ProcedureRows = ["§9.9"], Batch = ClusterBatch, Node = "",
            Propose = async (ctx, ct) => ctx.Api is null
                ? [new StepChange.ObjectDelete(KubeadmCerts, "if present: it carries the old CAs")]
                : await ctx.Api.Objects.ExistsAsync(KubeadmCerts, ct).ConfigureAwait(false) ? [new StepChange.ObjectDelete(KubeadmCerts, "it carries the old CAs; re-upload with kubeadm init phase upload-certs before the next control-plane join")] : [],
        });
        foreach (var cp in nodes.ControlPlanes)
        {
            var files = cas.SelectMany(ca => ca.Files(paths).Select(f => f.Path)).ToList();
            if (Cluster is not null) files.Add(paths.SignerCopy(CaKind.Cluster));
            steps.Add(new Step
            {
                Id = $"distrust/cleanup/{cp.Name}", Name = $"remove the staged CA copies and the signer copy on {cp.Name} (the old CA stays in the backup)", ProcedureRows = [], Batch = CleanupBatch, Node = cp.Name,
                Propose = async (ctx, ct) =>
                {
                    var changes = new List<StepChange>();
                    foreach (var path in files)
                        if (await ctx.Nodes[cp.Name].Access.ExistsAsync(path, ct).ConfigureAwait(false))
                            changes.Add(new StepChange.FileWrite(cp.Name, path, null, FileModes.Private, "no longer needed", Backup: false));
                    return changes;
                },
            });
        }
        return steps;
    }

    // ---------------------------------------------------------------- building blocks

    private static string Label(string phase) => phase == "trust" ? "trust old + new" : "trust only the new CA";

    private IReadOnlyList<X509Certificate2> OldCertificates() => cas.Where(c => c.Ca != CaKind.Etcd).Select(c => c.Old.Certificate).ToList();

    private Step Stage(string cp) => new()
    {
        Id = $"stage/{cp}", Name = $"stage the new CAs on {cp}", ProcedureRows = ["1"], Batch = StageBatch, Node = cp,
        Propose = async (ctx, ct) =>
        {
            var access = ctx.Nodes[cp].Access;
            var changes = new List<StepChange>();
            foreach (var ca in cas)
                foreach (var (path, content, fileMode) in ca.Files(paths))
                {
                    var current = await access.ReadFileAsync(path, ct).ConfigureAwait(false);
                    if (current is null || !current.AsSpan().SequenceEqual(content))
                        changes.Add(new StepChange.FileWrite(cp, path, content, fileMode, "staged new CA", Backup: false));
                }
            return changes;
        },
    };

    /// <summary>A CA file (ca.crt, front-proxy-ca.crt, etcd/ca.crt) edited; the certificate of the key beside it first, or <paramref name="leadWith"/> first.</summary>
    private Step CaFile(string phase, string cp, StagedCa ca, TrustStoreEdit edit, string[] rows, string why, X509Certificate2? leadWith)
    {
        var path = paths.CaCert(ca.Ca);
        return FileStep.Edit($"{phase}/{RotationPaths.Name(ca.Ca)}/bundle/{cp}", $"{Label(phase)} in {NodePath.GetFileName(path)} on {cp}", rows, BundleBatch, cp,
            path, FileModes.Public, why,
            async (ctx, current, ct) =>
            {
                var edited = TrustStoreEdits.CaBundleFile(current, edit, await KeyBesideAsync(ctx.Nodes[cp].Access, paths.CaKey(ca.Ca), ct).ConfigureAwait(false), $"{cp}:{path}");
                return leadWith is null ? edited : LeadWith(edited, leadWith, $"{cp}:{path}");
            });
    }

    private IEnumerable<Step> KubeconfigCaSteps(string phase, StagedCa cluster, TrustStoreEdit edit, string why)
    {
        foreach (var cp in nodes.ControlPlanes)
            foreach (var conf in new[] { Kubeadm.AdminConf, Kubeadm.SuperAdminConf, Kubeadm.ControllerManagerConf, Kubeadm.SchedulerConf })
                yield return FileStep.Edit($"{phase}/ca/kubeconfig/{cp.Name}/{NodePath.GetFileName(conf)}", $"{Label(phase)} in {NodePath.GetFileName(conf)} on {cp.Name}", [phase == "trust" ? "10" : "15.2"], KubeconfigBatch, cp.Name,
                    conf, FileModes.Private, why,
                    (_, current, _) => Task.FromResult(current is null ? null : (byte[]?)TrustStoreEdits.KubeconfigCaData(current, edit, cluster.Old.Certificate, $"{cp.Name}:{conf}")));
    }

    /// <summary>One control plane at a time: etcd (waited healthy), the API server (ready), the controller-manager, the scheduler.</summary>
    private IEnumerable<Step> ControlPlaneRestarts(string phase, bool restartEtcd, bool restartApiServer, bool restartKcm, bool restartScheduler, bool kcmFlagsBack = false)
    {
        foreach (var cp in nodes.ControlPlanes)
        {
            if (restartEtcd)
                yield return FileStep.RestartStaticPod($"{phase}/restart-etcd/{cp.Name}", $"restart etcd on {cp.Name} (it reads its trusted CAs only at start)", ["§9.6"], RestartBatch, cp, "etcd", Kubeadm.EtcdManifest) with
                {
                    Disruption = nodes.ControlPlanes.Count < 3 ? $"etcd has {nodes.ControlPlanes.Count} member{(nodes.ControlPlanes.Count == 1 ? "" : "s")}, so it loses quorum while this member restarts: API writes fail until it is back" : null,
                };
            if (restartApiServer)
                yield return FileStep.RestartStaticPod($"{phase}/restart-kube-apiserver/{cp.Name}", $"restart the API server on {cp.Name} (etcd and kubelet client certificates, --etcd-cafile)", ["11.4"], RestartBatch, cp, "kube-apiserver", Kubeadm.ApiServerManifest) with
                {
                    Disruption = nodes.ControlPlanes.Count == 1 ? "the cluster's only API server restarts: the Kubernetes API is unavailable until it is ready again (typically seconds)" : null,
                };
            if (kcmFlagsBack)
                yield return FileStep.Edit($"{phase}/ca/kcm-flags/{cp.Name}", $"point the controller-manager back at kubeadm's ca.crt on {cp.Name}", ["3", "15.2"], RestartBatch, cp.Name,
                    Kubeadm.ControllerManagerManifest, FileModes.Private, "--cluster-signing-cert-file, --client-ca-file → ca.crt (a single certificate again)",
                    (_, current, _) => Task.FromResult(current is null ? null : PointAt(current, from: paths.SignerCopy(CaKind.Cluster), to: paths.CaCert(CaKind.Cluster), $"{cp.Name}:{Kubeadm.ControllerManagerManifest}"))) with
                {
                    Verify = WaitAfterManifest(cp.Name, "kube-controller-manager"),
                };
            if (restartKcm)
                yield return FileStep.RestartStaticPod($"{phase}/restart-kube-controller-manager/{cp.Name}", $"restart the controller-manager on {cp.Name} (--root-ca-file, controller-manager.conf)", ["2", "4"], RestartBatch, cp,
                    "kube-controller-manager", Kubeadm.ControllerManagerManifest);
            if (restartScheduler)
                yield return FileStep.RestartStaticPod($"{phase}/restart-kube-scheduler/{cp.Name}", $"restart the scheduler on {cp.Name} (scheduler.conf)", ["10", "11.5"], RestartBatch, cp,
                    "kube-scheduler", Kubeadm.SchedulerManifest);
        }
    }

    private IEnumerable<Step> KubeletTrust(string phase, RotationNode node, StagedCa cluster, TrustStoreEdit edit, string[] rows, string what)
    {
        yield return new Step
        {
            Id = $"{phase}/ca/kubelet-client-ca/{node.Name}", Name = $"{Label(phase)} in the kubelet's clientCAFile on {node.Name}", ProcedureRows = rows, Batch = KubeletBatch, Node = node.Name,
            Propose = async (ctx, ct) =>
            {
                var access = ctx.Nodes[node.Name].Access;
                var config = await access.ReadFileAsync(Kubeadm.KubeletConfigFile, ct).ConfigureAwait(false)
                    ?? throw new RotationException($"{node.Name}:{Kubeadm.KubeletConfigFile} is missing; the kubelet's configuration is needed to find its clientCAFile: restore it, or pass the kubelet directory in the inventory.");
                var target = TrustStoreEdits.KubeletClientCaFile(config, $"{node.Name}:{Kubeadm.KubeletConfigFile}");
                if (string.IsNullOrEmpty(target)) return [];
                var current = await access.ReadFileAsync(target, ct).ConfigureAwait(false);
                var onControlPlaneCaFile = target == paths.CaCert(CaKind.Cluster) && node.IsControlPlane;
                var key = onControlPlaneCaFile ? await KeyBesideAsync(access, paths.CaKey(CaKind.Cluster), ct).ConfigureAwait(false) : null;
                var next = TrustStoreEdits.CaBundleFile(current, edit, key, $"{node.Name}:{target}");
                return current is not null && next.AsSpan().SequenceEqual(current) ? [] : [new StepChange.FileWrite(node.Name, target, next, FileModes.Public, $"kubelet clientCAFile {what}")];
            },
        };
        yield return FileStep.Edit($"{phase}/ca/kubelet-conf/{node.Name}", $"{Label(phase)} in kubelet.conf on {node.Name}", rows, KubeletBatch, node.Name,
            Kubeadm.KubeletConf, FileModes.Private, $"certificate-authority-data {what}",
            (_, current, _) => Task.FromResult(current is null ? null : (byte[]?)TrustStoreEdits.KubeconfigCaData(current, edit, cluster.Old.Certificate, $"{node.Name}:{Kubeadm.KubeletConf}")));
        yield return FileStep.RestartKubelet($"{phase}/ca/restart-kubelet/{node.Name}", rows, KubeletBatch, node);
    }

    /// <summary>The new pair becomes the active one: key (0600), the CA file with the new certificate first, and KCM's signer copy.</summary>
    private Step Activate(string cp, StagedCa ca, string phase = "switch") => new()
    {
        Id = $"{phase}/{RotationPaths.Name(ca.Ca)}/activate/{cp}", Name = $"make the new {RotationPaths.Name(ca.Ca)} the signing pair on {cp}", ProcedureRows = ["1", "3"], Batch = ActivateBatch, Node = cp,
        Propose = async (ctx, ct) =>
        {
            var access = ctx.Nodes[cp].Access;
            var changes = new List<StepChange>();
            var keyPath = paths.CaKey(ca.Ca);
            var certPath = paths.CaCert(ca.Ca);
            var key = await KeyBesideAsync(access, keyPath, ct).ConfigureAwait(false);
            if (key is null || !key.Matches(ca.New.Certificate))
                changes.Add(new StepChange.FileWrite(cp, keyPath, Encoding.ASCII.GetBytes(ca.New.Key.ToPem()), FileModes.Private, "the new CA's key"));
            var current = await access.ReadFileAsync(certPath, ct).ConfigureAwait(false);
            var bundle = LeadWith(TrustStoreEdits.CaBundleFile(current, TrustStoreEdit.AddAccepted(ca.New.Certificate), null, $"{cp}:{certPath}"), ca.New.Certificate, $"{cp}:{certPath}");
            if (current is null || !bundle.AsSpan().SequenceEqual(current))
                changes.Add(new StepChange.FileWrite(cp, certPath, bundle, FileModes.Public, "new + old, the new CA first"));
            if (ca.Ca == CaKind.Cluster)
            {
                var signer = paths.SignerCopy(CaKind.Cluster);
                var copy = await access.ReadFileAsync(signer, ct).ConfigureAwait(false);
                var wanted = Encoding.ASCII.GetBytes(ca.New.CertificatePem());
                if (copy is null || !(PemBundle.Parse(Encoding.ASCII.GetString(copy), signer) is { Count: 1 } b && b.Contains(ca.New.Certificate)))
                    changes.Add(new StepChange.FileWrite(cp, signer, wanted, FileModes.Public, "KCM signs with the new CA"));
            }
            return changes;
        },
        Verify = FileStep.ReadBack,
    };

    /// <summary>
    /// A leaf certificate file re-issued from the new CA with its own key (kubeadm certs renew keeps subject, SANs, usages);
    /// with <paramref name="chain"/> (the cross-signed new CA, for a serving leaf) the file is the leaf followed by it.
    /// </summary>
    private Step ReissueLeafFile(string id, string name, string batch, string node, StagedCa ca, string certPath, string keyPath, string[] rows, X509Certificate2? chain = null) =>
        FileStep.Edit(id, name, rows, batch, node, certPath, FileModes.Public,
            chain is null ? "re-issued from the new CA, same key" : "re-issued from the new CA, same key, followed by the cross-signed new CA for clients that trust only the old CA",
            async (ctx, current, ct) =>
            {
                if (current is null) return null;
                var bundle = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(current), $"{node}:{certPath}");
                var cert = bundle.First!;
                if (IssuedBy(cert, ca.New, issuer.Time.GetUtcNow()))
                    return chain is null || bundle.Count == 2 && bundle.Certificates[1].RawData.AsSpan().SequenceEqual(chain.RawData) ? current : Chained(cert, chain);
                var key = await KeyBesideAsync(ctx.Nodes[node].Access, keyPath, ct).ConfigureAwait(false)
                    ?? throw new RotationException($"{node}:{keyPath} is missing, so {certPath} cannot be re-issued with its own key; restore the key from the backup.");
                if (!key.Matches(cert)) throw new RotationException($"{node}:{keyPath} does not match {certPath}; restore the pair from the backup before re-issuing.");
                return Chained(issuer.Reissue(cert, key, ca.New, LeafValidity(ca)), chain);
            });

    private static byte[] Chained(X509Certificate2 leaf, X509Certificate2? chain) =>
        Encoding.ASCII.GetBytes(leaf.ExportCertificatePem() + "\n" + (chain is null ? "" : chain.ExportCertificatePem() + "\n"));

    /// <summary>A serving leaf that the switch wrote with the cross-signed new CA after it, written alone again (see the type's comment).</summary>
    private Step LeafAlone(string cp, StagedCa ca, LeafProfile leaf)
    {
        var path = Kubeadm.Pki(leaf.CertFile);
        return FileStep.Edit($"distrust/{RotationPaths.Name(ca.Ca)}/leaf-alone/{cp}/{leaf.Name}", $"serve {leaf.CertFile} on {cp} without the cross-signed new CA", ["15.2"], ReissueBatch, cp,
            path, FileModes.Public, "the leaf alone, as kubeadm writes it: the old CA is no longer trusted",
            (_, current, _) =>
            {
                if (current is null) return Task.FromResult<byte[]?>(null);
                var bundle = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(current), $"{cp}:{path}");
                // Only a leaf of the new CA loses what follows it; anything else is the operator's and stays.
                return Task.FromResult<byte[]?>(bundle.Count > 1 && IssuedBy(bundle.First!, ca.New, issuer.Time.GetUtcNow()) ? Chained(bundle.First!, null) : current);
            });
    }

    /// <summary>The client certificate of a kubeconfig re-issued from the new CA with its own key: embedded data, or the file it names (kubelet-client-current.pem: certificate and key).</summary>
    private Step ReissueKubeconfigClient(string id, string batch, string node, StagedCa cluster, string conf, string[] rows) => new()
    {
        Id = id, Name = $"re-issue the client certificate of {NodePath.GetFileName(conf)} on {node} from the new CA", ProcedureRows = rows, Batch = batch, Node = node,
        Propose = async (ctx, ct) =>
        {
            var access = ctx.Nodes[node].Access;
            var bytes = await access.ReadFileAsync(conf, ct).ConfigureAwait(false);
            if (bytes is null) return [];
            var config = Kubeconfig.Parse(bytes, $"{node}:{conf}");
            var now = issuer.Time.GetUtcNow();
            var changes = new List<StepChange>();
            foreach (var user in config.Users)
            {
                if (user.ClientCertificateData is { } data && user.ClientKeyData is { } keyData)
                {
                    var cert = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(data), $"{node}:{conf} (user {user.Name})").First!;
                    if (!cert.Issuer.Equals(cluster.Old.Certificate.Subject, StringComparison.Ordinal) && !cert.Issuer.Equals(cluster.New.Certificate.Subject, StringComparison.Ordinal)) continue;
                    if (IssuedBy(cert, cluster.New, now)) continue;
                    var key = PrivateKey.FromPem(Encoding.ASCII.GetString(keyData), $"{node}:{conf} (user {user.Name})");
                    var reissued = issuer.Reissue(cert, key, cluster.New, LeafValidity(cluster));
                    config.SetClientCertificateData(user.Name, Encoding.ASCII.GetBytes(reissued.ExportCertificatePem() + "\n"), keyData);
                }
                else if (user.ClientCertificate is { } certPath)
                {
                    var pem = await access.ReadFileAsync(certPath, ct).ConfigureAwait(false);
                    if (pem is null) throw new RotationException($"{node}:{certPath}, the client certificate {conf} names, is missing; restore it (or let the kubelet bootstrap again) and run again.");
                    var text = Encoding.ASCII.GetString(pem);
                    var cert = PemBundle.ParseNonEmpty(text, $"{node}:{certPath}").First!;
                    if (IssuedBy(cert, cluster.New, now)) continue;
                    var keyText = user.ClientKey is { } keyPath && keyPath != certPath
                        ? Encoding.ASCII.GetString(await access.ReadFileAsync(keyPath, ct).ConfigureAwait(false) ?? throw new RotationException($"{node}:{keyPath}, the client key {conf} names, is missing; restore it and run again."))
                        : text;
                    var key = PrivateKey.FromPem(keyText, $"{node}:{user.ClientKey ?? certPath}");
                    var reissued = Encoding.ASCII.GetBytes(issuer.Reissue(cert, key, cluster.New, LeafValidity(cluster)).ExportCertificatePem() + "\n");
                    // kubelet-client-current.pem holds the certificate and the key, as the kubelet writes it.
                    var content = user.ClientKey is null || user.ClientKey == certPath ? [.. reissued, .. Encoding.ASCII.GetBytes(key.ToPem())] : reissued;
                    changes.Add(new StepChange.FileWrite(node, certPath, content, FileModes.Private, "client certificate from the new CA, same key"));
                }
            }
            if (config.IsChanged) changes.Insert(0, new StepChange.FileWrite(node, conf, config.ToBytes(), FileModes.Private, "client-certificate-data from the new CA, same key"));
            return changes;
        },
        Verify = FileStep.ReadBack,
    };

    private Step WaitRootCa(string phase, IReadOnlyList<X509Certificate2> expected, string[] rows) => new()
    {
        Id = $"{phase}/ca/root-ca-published", Name = $"wait for kube-root-ca.crt and the token Secrets to hold {(expected.Count == 1 ? "the new CA alone" : "old + new")}", ProcedureRows = rows, Batch = ClusterBatch, Node = "",
        Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.Wait("the controller-manager publishes its --root-ca-file to every namespace")]),
        IsDone = (_, _) => Task.FromResult(false),
        Verify = async (ctx, _, _, ct) =>
        {
            if (ctx.DryRun) return;
            await ctx.RequireApi("watch kube-root-ca.crt").RootCa.WaitPublishedAsync(expected, ct).ConfigureAwait(false);
        },
    };

    private Step ClusterInfoStep(string phase, StagedCa cluster, TrustStoreEdit edit) => new()
    {
        Id = $"{phase}/ca/cluster-info", Name = $"{edit.Describe()} in cluster-info (kube-public) for nodes joining with bootstrap tokens", ProcedureRows = ["12-13"], Batch = ClusterBatch, Node = "",
        Propose = async (ctx, ct) =>
        {
            if (ctx.Api is null) return [new StepChange.ObjectWrite(ClusterInfo, "kubeconfig", null, "not read: no API connection")];
            var current = await ctx.Api.Objects.ReadFieldAsync(ClusterInfo, "kubeconfig", ct).ConfigureAwait(false);
            if (current is null) return [];
            var bytes = Encoding.UTF8.GetBytes(current);
            var next = TrustStoreEdits.KubeconfigCaData(bytes, edit, cluster.Old.Certificate, $"{ClusterInfo} kubeconfig");
            return ReferenceEquals(next, bytes) ? [] : [new StepChange.ObjectWrite(ClusterInfo, "kubeconfig", Encoding.UTF8.GetString(next), $"certificate-authority-data {edit.Describe()}; bootstrapsigner re-signs it")];
        },
    };

    private Step WaitExtensionAuthentication(string phase, IReadOnlyList<X509Certificate2> mustHold, IReadOnlyList<X509Certificate2> mustNotHold) => new()
    {
        Id = $"{phase}/extension-apiserver-authentication/wait", Name = "wait for extension-apiserver-authentication to carry the trust the API servers load", ProcedureRows = ["11.1"], Batch = ClusterBatch, Node = "",
        Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.Wait("the API servers publish their client and front-proxy CAs")]),
        IsDone = (_, _) => Task.FromResult(false),
        Verify = async (ctx, _, _, ct) =>
        {
            if (ctx.DryRun) return;
            var api = ctx.RequireApi("read extension-apiserver-authentication");
            var deadline = ctx.Time.GetUtcNow() + TimeSpan.FromMinutes(5);
            while (true)
            {
                var all = await ReadBundlesAsync(api, ExtensionApiserverAuthentication, ct).ConfigureAwait(false);
                var missing = mustHold.Where(c => !all.Contains(c)).ToList();
                var extra = mustNotHold.Where(all.Contains).ToList();
                if (missing.Count == 0 && extra.Count == 0) return;
                if (ctx.Time.GetUtcNow() > deadline)
                    throw new RotationException($"{ExtensionApiserverAuthentication} still {(missing.Count > 0 ? "lacks " + string.Join(", ", missing.Select(Describe)) : "holds " + string.Join(", ", extra.Select(Describe)))} after 5 minutes; check that every API server is running with the CA files of this phase (their logs), then run again.");
                await Task.Delay(TimeSpan.FromMilliseconds(500), ctx.Time, ct).ConfigureAwait(false);
            }
        },
    };

    internal static Step RollWorkloads(string phase, string[] rows) => new()
    {
        Id = $"{phase}/workloads", Name = "roll every Deployment, DaemonSet and StatefulSet so their pods load the new trust", ProcedureRows = rows, Batch = ClusterBatch, Node = "",
        Propose = async (ctx, ct) =>
        {
            if (ctx.Api is null) return [new StepChange.Wait("roll every workload (not listed: no API connection)")];
            var stamp = $"{ctx.RotationId}/{phase}";
            var changes = new List<StepChange>();
            foreach (var workload in await ctx.Api.Workloads.ListAsync(ct).ConfigureAwait(false))
                if (!await ctx.Api.Workloads.IsRestartedAsync(workload, stamp, ct).ConfigureAwait(false))
                    changes.Add(new StepChange.RolloutRestart(workload, stamp));
            return changes;
        },
        Verify = async (ctx, _, _, ct) =>
        {
            if (ctx.DryRun) return;
            var api = ctx.RequireApi("watch rollouts");
            using var slots = new SemaphoreSlim(Math.Max(1, ctx.WorkloadParallelism) * 4);
            await Task.WhenAll((await api.Workloads.ListAsync(ct).ConfigureAwait(false)).Select(async w =>
            {
                await slots.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await api.Workloads.WaitRolledOutAsync(w, ct).ConfigureAwait(false);
                }
                finally
                {
                    slots.Release();
                }
            })).ConfigureAwait(false);
        },
    };

    private static async Task<bool> HoldsAnyAsync(RotationApi api, ObjectTarget target, IReadOnlyList<X509Certificate2> certs, CancellationToken ct)
    {
        var all = await ReadBundlesAsync(api, target, ct).ConfigureAwait(false);
        return certs.Any(all.Contains);
    }

    private static async Task<PemBundle> ReadBundlesAsync(RotationApi api, ObjectTarget target, CancellationToken ct)
    {
        var all = new PemBundle([]);
        foreach (var field in new[] { "client-ca-file", "requestheader-client-ca-file" })
            if (await api.Objects.ReadFieldAsync(target, field, ct).ConfigureAwait(false) is { } pem)
                all = all.Merge(PemBundle.Parse(pem, $"{target} {field}"));
        return all;
    }

    private TimeSpan LeafValidity(StagedCa ca)
    {
        var requested = leafValidity ?? TimeSpan.FromHours(8760);
        var left = ca.New.Certificate.NotAfter.ToUniversalTime() - issuer.Time.GetUtcNow().UtcDateTime;
        return left < requested ? left : requested;
    }

    /// <summary>True when <paramref name="cert"/> chains to <paramref name="ca"/> alone (signature, names, validity).</summary>
    public static bool IssuedBy(X509Certificate2 cert, CertificateAuthority ca, DateTimeOffset at) =>
        CertificateFacts.ChainsTo(cert, [ca.Certificate], at);

    private static string Describe(X509Certificate2 cert) => $"{CertificateFacts.CommonName(cert)} ({CertificateFacts.Sha256Fingerprint(cert)[..12]})";

    /// <summary>Reorders a bundle so <paramref name="first"/> leads (it must be in it).</summary>
    public static byte[] LeadWith(byte[] bundleBytes, X509Certificate2 first, string source)
    {
        var bundle = PemBundle.Parse(Encoding.ASCII.GetString(bundleBytes), source);
        if (bundle.First is { } lead && lead.RawData.AsSpan().SequenceEqual(first.RawData)) return bundleBytes;
        var ordered = new PemBundle(new[] { first }.Concat(bundle.Certificates.Where(c => !c.RawData.AsSpan().SequenceEqual(first.RawData))));
        return Encoding.ASCII.GetBytes(ordered.ToPem());
    }

    /// <summary>Sets KCM's --cluster-signing-cert-file and --client-ca-file to <paramref name="to"/> where they are <paramref name="from"/>; other values (an operator's own, or empty for an external CA) stay.</summary>
    private static byte[]? PointAt(byte[] manifest, string from, string to, string source)
    {
        var result = manifest;
        foreach (var flag in new[] { "cluster-signing-cert-file", "client-ca-file" })
            if (TrustStoreEdits.ManifestFlagValue(result, flag, source) == from)
                result = TrustStoreEdits.ManifestFlag(result, flag, to, source);
        return result;
    }

    private static async Task<PrivateKey?> KeyBesideAsync(INodeAccess node, string keyPath, CancellationToken ct) =>
        await node.ReadFileAsync(keyPath, ct).ConfigureAwait(false) is { } key ? PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{keyPath}") : null;

    private static Func<StepContext, IReadOnlyList<StepChange>, DateTimeOffset, CancellationToken, Task> WaitAfterManifest(string node, string component) =>
        async (ctx, changes, at, ct) =>
        {
            await FileStep.ReadBack(ctx, changes, at, ct).ConfigureAwait(false);
            if (ctx.DryRun) return;
            if (ctx.Restarts is null) throw FileStep.NoObserver(node, component);
            await ctx.Restarts.WaitStaticPodRestartedAsync(node, component, at, ct).ConfigureAwait(false);
        };
}
