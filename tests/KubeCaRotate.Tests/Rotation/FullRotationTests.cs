using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>All three CAs through start and complete, and rollback from switched, on node directories; checked with openssl.</summary>
public class FullRotationTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static readonly RotationPaths Paths = RotationPaths.Default;
    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;

    private static RotationRequest Request(RotationMode mode = RotationMode.Rotate) => new()
    {
        Cas = [.. new[] { CaKind.Cluster, CaKind.FrontProxy, CaKind.Etcd }.Select(c => new CaRotationRequest(c, new NewCaSource.Generate()))],
        Mode = mode, KubeletParallelism = 2,
    };

    private static RotationCluster Cluster(NodeDirectoryCluster cluster, RecordingRestartObserver? observer = null) =>
        cluster.Cluster(observer ?? new RecordingRestartObserver()) with { ProveLiveEndpoints = false };

    [Fact]
    public async Task Start_then_complete_leaves_kubeadm_layout_with_only_the_new_cas_and_every_leaf_issued_by_them()
    {
        using var cluster = fixture.Template.Copy();
        var oldCas = new Dictionary<CaKind, string>();
        foreach (var ca in KubeadmCatalog.CertificateAuthorities)
        {
            var file = Path.Combine(cluster.Root, ca.Name + "-old.crt");
            File.WriteAllText(file, cluster.Read("cp-1", Paths.CaCert(ca.Kind)));
            oldCas[ca.Kind] = file;
        }
        var observer = new RecordingRestartObserver();
        var started = await CaRotation.StartAsync(Request(), Cluster(cluster, observer));
        Assert.Equal(RotationPhase.Switched, started.Phase);
        // Switch: one control plane at a time etcd, API server, controller-manager, scheduler restart after the trust phase did the same.
        Assert.Contains(observer.Waits, w => w.Node == "cp-2" && w.Component == "etcd");

        var completed = await CaRotation.CompleteAsync(new FinishRequest(), Cluster(cluster));
        Assert.Equal(RotationPhase.Completed, completed.Phase);
        Assert.NotEmpty(completed.Verified);
        Assert.NotNull(completed.AdminKubeconfig);

        foreach (var cp in NodeDirectoryCluster.ControlPlaneNames)
        {
            foreach (var ca in KubeadmCatalog.CertificateAuthorities)
            {
                var bundle = cluster.Bundle(cp, Paths.CaCert(ca.Kind));
                var journaled = completed.Cas.Single(c => c.Ca == ca.Kind);
                Assert.Equal([journaled.NewSha256], bundle.Certificates.Select(CertificateFacts.Sha256Fingerprint));
                Assert.True(PrivateKey.FromPem(cluster.Read(cp, Paths.CaKey(ca.Kind)), "key").Matches(bundle.First!));
                Assert.Equal(FileModes.Private, File.GetUnixFileMode(cluster.NodeRoot(cp) + Paths.CaKey(ca.Kind)));
                foreach (var leaf in KubeadmCatalog.Leaves.Where(l => l.Ca == ca.Kind))
                {
                    var leafFile = cluster.NodeRoot(cp) + Kubeadm.Pki(leaf.CertFile);
                    ExternalTool.Ok("openssl", "verify", "-CAfile", cluster.NodeRoot(cp) + Paths.CaCert(ca.Kind), leafFile);
                    Assert.NotEqual(0, ExternalTool.Run("openssl", "verify", "-CAfile", oldCas[ca.Kind], leafFile).ExitCode);
                }
            }
            var kcm = StaticPodManifest.Parse(cluster.Read(cp, Kubeadm.ControllerManagerManifest));
            Assert.Equal(Kubeadm.CaCert, kcm.GetFlag("cluster-signing-cert-file"));
            Assert.Equal(Kubeadm.CaCert, kcm.GetFlag("client-ca-file"));
            Assert.False(File.Exists(cluster.NodeRoot(cp) + Paths.SignerCopy(CaKind.Cluster)));
            Assert.False(File.Exists(cluster.NodeRoot(cp) + Paths.StagedKey(CaKind.Cluster)));
            // The old CAs stay in the backup.
            Assert.True(File.Exists(cluster.NodeRoot(cp) + Paths.BackupCopy(completed.RotationId, Paths.CaKey(CaKind.Cluster))));
        }
        foreach (var node in cluster.NodeNames)
        {
            // kubelet.conf trusts the new CA alone and its client certificate (embedded or the pem file it names) is from the new CA.
            var conf = Kubeconfig.Parse(cluster.Read(node, Kubeadm.KubeletConf), "kubelet.conf");
            Assert.Single(PemBundle.Parse(Encoding.ASCII.GetString(conf.Clusters.Single().CertificateAuthorityData!), "ca").Certificates);
            var user = conf.Users.Single();
            var pem = user.ClientCertificateData ?? Encoding.ASCII.GetBytes(cluster.Read(node, user.ClientCertificate!));
            var clientFile = Path.Combine(cluster.Root, node + "-client.pem");
            File.WriteAllBytes(clientFile, pem);
            ExternalTool.Ok("openssl", "verify", "-CAfile", cluster.NodeRoot("cp-1") + Kubeadm.CaCert, clientFile);
            Assert.Single(cluster.Bundle(node, Kubeadm.CaCert).Certificates);
        }
        var newCluster = cluster.Bundle("cp-1", Kubeadm.CaCert).First!;
        Assert.Equal(CertificateFacts.PublicKeyPin(newCluster), completed.DiscoveryTokenCaCertHash);

        // A finished rotation: complete again refuses, status says completed.
        var status = await CaRotation.StatusAsync(Cluster(cluster));
        Assert.Equal(RotationPhase.Completed, status.Phase);
        await Assert.ThrowsAsync<RotationException>(() => CaRotation.CompleteAsync(new FinishRequest(), Cluster(cluster)));
    }

    [Fact]
    public async Task Cluster_info_follows_the_phases_and_the_kubeadm_certs_secret_is_deleted_with_a_warning()
    {
        using var cluster = fixture.Template.Copy();
        var oldCa = cluster.Read("cp-1", Kubeadm.CaCert);
        var api = new RecordingRotationApi(new RecordingRestartObserver(), cluster.Node("cp-1"));
        // kubeadm's cluster-info: a kubeconfig whose cluster is named "".
        var clusterInfo = "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n  cluster:\n    server: https://127.0.0.10:6443\n    certificate-authority-data: " + Convert.ToBase64String(Encoding.ASCII.GetBytes(oldCa)) + "\ncontexts: []\nusers: []\n";
        api.Seed(PhaseSteps.ClusterInfo, new() { ["kubeconfig"] = clusterInfo });
        api.Seed(PhaseSteps.KubeadmCerts, new() { ["ca.crt"] = "encrypted" });
        RotationCluster Cluster() => cluster.Cluster(new RecordingRestartObserver()) with { Api = api.Api, ProveLiveEndpoints = false };

        var started = await CaRotation.StartAsync(Request(), Cluster());
        var trusted = await api.ReadFieldAsync(PhaseSteps.ClusterInfo, "kubeconfig", default);
        Assert.Equal(2, TrustStoreEdits.KubeconfigCas(Encoding.UTF8.GetBytes(trusted!), "cluster-info").Values.Single().Count);
        Assert.Contains(api.RootCaWaits, w => w.Count == 2);

        var completed = await CaRotation.CompleteAsync(new FinishRequest(), Cluster());
        var final = await api.ReadFieldAsync(PhaseSteps.ClusterInfo, "kubeconfig", default);
        var cas = TrustStoreEdits.KubeconfigCas(Encoding.UTF8.GetBytes(final!), "cluster-info").Values.Single();
        Assert.Equal([completed.Cas.Single(c => c.Ca == CaKind.Cluster).NewSha256], cas.Certificates.Select(CertificateFacts.Sha256Fingerprint));
        Assert.Contains("server: https://127.0.0.10:6443", final);
        Assert.Contains(api.RootCaWaits, w => w.Count == 1 && w[0] == completed.Cas.Single(c => c.Ca == CaKind.Cluster).NewSha256);
        Assert.False(await api.ExistsAsync(PhaseSteps.KubeadmCerts, default));
        Assert.Contains(completed.Warnings, w => w.Contains("kubeadm-certs", StringComparison.Ordinal) && w.Contains("upload-certs", StringComparison.Ordinal));
        Assert.Equal(started.RotationId, completed.RotationId);
    }

    [Fact]
    public async Task Rollback_from_switched_restores_every_file_byte_for_byte()
    {
        using var cluster = fixture.Template.Copy();
        var pristine = cluster.Hashes(skipState: true);
        await CaRotation.StartAsync(Request(), Cluster(cluster));
        Assert.NotEqual(pristine, cluster.Hashes(skipState: true));
        var rolledBack = await CaRotation.RollbackAsync(new FinishRequest(), Cluster(cluster));
        Assert.Equal(RotationPhase.RolledBack, rolledBack.Phase);
        Assert.Equal(pristine, cluster.Hashes(skipState: true));
        foreach (var cp in NodeDirectoryCluster.ControlPlaneNames)
            Assert.False(File.Exists(cluster.NodeRoot(cp) + Paths.StagedKey(CaKind.Cluster)));
        // A new rotation may start afterwards.
        var again = await CaRotation.PlanAsync(Request(), Cluster(cluster));
        Assert.NotEqual(rolledBack.RotationId, again.RotationId);
    }

    /// <summary>
    /// Rollback from switched: the operator's kubeconfig (re-issued from the new CA by the switch) is back to its original
    /// bytes before any CA file narrows the API servers' trust again, and on each control plane the static pod manifests
    /// come back one at a time in the rotation's order, each pod waited for before the next manifest is written (all at
    /// once, kube-apiserver would restart while its local etcd member does).
    /// </summary>
    [Fact]
    public async Task Rollback_restores_the_operator_kubeconfig_before_the_ca_files_and_each_manifest_after_the_previous_pod_came_back()
    {
        using var cluster = fixture.Template.Copy();
        var operatorFile = Path.Combine(cluster.Root, "operator.conf");
        File.Copy(cluster.NodeRoot("cp-1") + Kubeadm.AdminConf, operatorFile);
        var operatorBefore = File.ReadAllBytes(operatorFile);
        var manifests = new[] { "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler" };
        var pristine = NodeDirectoryCluster.ControlPlaneNames.ToDictionary(cp => cp, cp => manifests.ToDictionary(m => m, m => cluster.Read(cp, NodePath.Combine(Kubeadm.ManifestsDir, m + ".yaml"))));
        var caBefore = cluster.Read("cp-1", Kubeadm.CaCert);
        await CaRotation.StartAsync(Request(), Cluster(cluster) with { OperatorKubeconfig = operatorFile });
        Assert.NotEqual(operatorBefore, File.ReadAllBytes(operatorFile));

        // At each wait for a restored static pod: which of that node's manifests are back to their original bytes.
        var seen = new List<(string Node, string Component, string[] Restored, bool OperatorBack, bool CaBack)>();
        var observer = new RecordingRestartObserver
        {
            OnStaticPodWait = (node, component) => seen.Add((node, component,
                manifests.Where(m => cluster.Read(node, NodePath.Combine(Kubeadm.ManifestsDir, m + ".yaml")) == pristine[node][m]).ToArray(),
                File.ReadAllBytes(operatorFile).AsSpan().SequenceEqual(operatorBefore), cluster.Read("cp-1", Kubeadm.CaCert) == caBefore)),
        };
        var rolledBack = await CaRotation.RollbackAsync(new FinishRequest(), Cluster(cluster, observer) with { OperatorKubeconfig = operatorFile });
        Assert.Equal(RotationPhase.RolledBack, rolledBack.Phase);
        Assert.Equal(operatorBefore, File.ReadAllBytes(operatorFile));

        var restoreWaits = seen.Where(w => w.Restored.Contains(w.Component)).ToList();
        foreach (var cp in NodeDirectoryCluster.ControlPlaneNames)
        {
            // One wait per manifest, in order, and at each one exactly the manifests up to it are back.
            var mine = restoreWaits.Where(w => w.Node == cp).ToList();
            Assert.Equal(manifests, mine.Select(w => w.Component));
            for (var i = 0; i < manifests.Length; i++) Assert.Equal(manifests[..(i + 1)], mine[i].Restored);
        }
        // The operator's kubeconfig was back before cp-1's ca.crt was, so it was never left with a client certificate the API servers no longer trust.
        Assert.All(seen.Where(w => w.CaBack), w => Assert.True(w.OperatorBack, $"{w.Node}/{w.Component}: ca.crt restored before the operator's kubeconfig"));
        var ids = rolledBack.Steps.Select(s => s.Id).ToList();
        Assert.True(ids.IndexOf("rollback/operator-kubeconfig") < ids.IndexOf("rollback/restore/cp-1"), string.Join(", ", ids));
    }

    [Fact]
    public async Task Renew_keeps_every_key_and_leaf_and_ends_with_the_renewed_certificates_alone()
    {
        using var cluster = fixture.Template.Copy();
        var leaves = NodeDirectoryCluster.ControlPlaneNames.SelectMany(cp => KubeadmCatalog.Leaves.Select(l => (cp, l.CertFile)))
            .ToDictionary(x => $"{x.cp}:{x.CertFile}", x => cluster.Read(x.cp, Kubeadm.Pki(x.CertFile)));
        var keys = KubeadmCatalog.CertificateAuthorities.ToDictionary(c => c.Kind, c => cluster.Read("cp-1", Paths.CaKey(c.Kind)));
        await CaRotation.StartAsync(Request(RotationMode.Renew), Cluster(cluster));
        var completed = await CaRotation.CompleteAsync(new FinishRequest(), Cluster(cluster));
        foreach (var (id, hex) in leaves)
        {
            var (cp, file) = (id.Split(':')[0], id.Split(':')[1]);
            Assert.Equal(hex, cluster.Read(cp, Kubeadm.Pki(file)));
            var ca = KubeadmCatalog.Leaves.Single(l => l.CertFile == file).Ca;
            ExternalTool.Ok("openssl", "verify", "-CAfile", cluster.NodeRoot(cp) + Paths.CaCert(ca), cluster.NodeRoot(cp) + Kubeadm.Pki(file));
        }
        foreach (var ca in KubeadmCatalog.CertificateAuthorities)
        {
            Assert.Equal(keys[ca.Kind], cluster.Read("cp-1", Paths.CaKey(ca.Kind)));
            Assert.Equal([completed.Cas.Single(c => c.Ca == ca.Kind).NewSha256], cluster.Bundle("cp-1", Paths.CaCert(ca.Kind)).Certificates.Select(CertificateFacts.Sha256Fingerprint));
        }
    }
}
