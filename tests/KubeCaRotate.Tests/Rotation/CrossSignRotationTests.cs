using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Tests.TestSupport;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>
/// `start --cross-sign` then `complete` on node directories, with the trust graph as the gate of every step and the
/// operator's kubeconfig from before the rotation (trusting only the old cluster CA) as one of its clients: serving leaves
/// go out as leaf + cross-signed new CA, which openssl and the trust model accept against the old CA alone; complete
/// leaves every leaf alone, chaining to the new CA only. Without --cross-sign the same gate refuses the switch.
/// </summary>
public class CrossSignRotationTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static readonly RotationPaths Paths = RotationPaths.Default;
    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;
    private const string OperatorEdge = "admin->endpoint";

    private static RotationRequest Request(bool crossSign) => new()
    {
        Cas = [.. new[] { CaKind.Cluster, CaKind.FrontProxy, CaKind.Etcd }.Select(c => new CaRotationRequest(c, new NewCaSource.Generate(), CrossSign: crossSign))],
        KubeletParallelism = 2,
    };

    private static async Task<ClusterSnapshot> SnapshotAsync(NodeDirectoryCluster cluster, string? operatorKubeconfig)
    {
        var targets = cluster.NodeNames.Select(n => new NodeTarget(n, NodeDirectoryCluster.ControlPlaneNames.Contains(n) ? ["control-plane"] : ["worker"], null, cluster.Node(n))).ToList();
        var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(targets, null, null, Kubeadm, null, CancellationToken.None);
        Assert.Empty(snapshot.Problems);
        return operatorKubeconfig is null ? snapshot : snapshot with { OperatorKubeconfig = new NodeFile(operatorKubeconfig, File.ReadAllBytes(operatorKubeconfig), null) };
    }

    /// <summary>The cluster with a trust gate read when each command starts, as the CLI builds it; <paramref name="operatorKubeconfig"/> is one more client the gate protects.</summary>
    private static RotationCluster Gated(NodeDirectoryCluster cluster, string? operatorKubeconfig) =>
        cluster.Cluster(new RecordingRestartObserver()) with
        {
            ProveLiveEndpoints = false,
            TrustGateFactory = async _ => new TrustModelGate(await SnapshotAsync(cluster, operatorKubeconfig), new TrustModel()),
        };

    private static string WriteCertificate(NodeDirectoryCluster cluster, string name, System.Security.Cryptography.X509Certificates.X509Certificate2 cert)
    {
        var file = Path.Combine(cluster.Root, name);
        File.WriteAllText(file, cert.ExportCertificatePem() + "\n");
        return file;
    }

    [Fact]
    public async Task Serving_leaves_carry_the_cross_signed_ca_until_complete_so_a_client_trusting_only_the_old_ca_accepts_them()
    {
        using var cluster = fixture.Template.Copy();
        var oldAdmin = Path.Combine(cluster.Root, "admin-before.conf");
        File.WriteAllBytes(oldAdmin, File.ReadAllBytes(cluster.NodeRoot("cp-1") + Kubeadm.AdminConf));
        var oldCas = KubeadmCatalog.CertificateAuthorities.ToDictionary(c => c.Kind, c => WriteCertificate(cluster, c.Name + "-old.crt", cluster.Bundle("cp-1", Paths.CaCert(c.Kind)).First!));

        var plan = await CaRotation.PlanAsync(Request(crossSign: true), cluster.Cluster(new RecordingRestartObserver()) with { ProveLiveEndpoints = false });
        var planned = plan.Steps.Single(s => s.Id == "switch/ca/reissue/cp-1/apiserver");
        Assert.Contains("followed by the cross-signed new CA", planned.Name);
        Assert.Contains(planned.Changes, c => c.Contains(Kubeadm.Pki("apiserver.crt")) && c.Contains("cross-signed new CA"));
        Assert.DoesNotContain("cross-signed", plan.Steps.Single(s => s.Id == "switch/ca/reissue/cp-1/apiserver-kubelet-client").Name);

        // Every step of start is checked by the trust graph, with the operator's old kubeconfig as a client that must stay up.
        var started = await CaRotation.StartAsync(Request(crossSign: true), Gated(cluster, oldAdmin));
        Assert.Equal(RotationPhase.Switched, started.Phase);

        var crossFiles = new Dictionary<CaKind, string>();
        foreach (var ca in started.Cas)
        {
            Assert.NotNull(ca.CrossSignedSha256);
            foreach (var cp in NodeDirectoryCluster.ControlPlaneNames)
            {
                var newCa = cluster.Bundle(cp, Paths.CaCert(ca.Ca)).First!;
                Assert.Equal(ca.NewSha256, CertificateFacts.Sha256Fingerprint(newCa));
                foreach (var leaf in KubeadmCatalog.Leaves.Where(l => l.Ca == ca.Ca))
                {
                    var bundle = cluster.Bundle(cp, Kubeadm.Pki(leaf.CertFile));
                    Assert.True(CertificateFacts.ChainsTo(bundle.First!, [newCa], DateTimeOffset.UtcNow), $"{cp}:{leaf.CertFile} is not issued by the new CA");
                    if (!leaf.Serves)
                    {
                        Assert.Equal(1, bundle.Count);
                        continue;
                    }
                    Assert.Equal(2, bundle.Count);
                    Assert.Equal(ca.CrossSignedSha256, CertificateFacts.Sha256Fingerprint(bundle.Certificates[1]));
                    // What the server sends, checked by openssl as a client that trusts only the old CA.
                    var leafFile = WriteCertificate(cluster, $"{cp}-{leaf.Name}.crt", bundle.First!);
                    var crossFile = crossFiles.TryGetValue(ca.Ca, out var known) ? known : crossFiles[ca.Ca] = WriteCertificate(cluster, $"{RotationPaths.Name(ca.Ca)}-cross.crt", bundle.Certificates[1]);
                    ExternalTool.Ok("openssl", "verify", "-CAfile", oldCas[ca.Ca], "-untrusted", crossFile, leafFile);
                    Assert.NotEqual(0, ExternalTool.Run("openssl", "verify", "-CAfile", oldCas[ca.Ca], leafFile).ExitCode);
                }
            }
        }
        foreach (var node in cluster.NodeNames)
        {
            // Client certificates stay a leaf alone: every server that verifies them trusts old + new until complete.
            var user = Kubeconfig.Parse(cluster.Read(node, Kubeadm.KubeletConf), "kubelet.conf").Users.Single();
            var pem = user.ClientCertificateData is { } data ? Encoding.ASCII.GetString(data) : cluster.Read(node, user.ClientCertificate!);
            Assert.Equal(1, PemBundle.Parse(pem, "kubelet client").Count);
        }

        // The trust model: the old-only client accepts the API servers through the certificate they send after the leaf...
        var model = new TrustModel();
        var switched = await SnapshotAsync(cluster, oldAdmin);
        var edge = model.Evaluate(switched).Edge(OperatorEdge);
        Assert.NotNull(edge);
        Assert.True(edge.State == EdgeState.Healthy, string.Join(" ", edge.Reasons));
        // ...and would reject an API server presenting the same new-CA leaf without it.
        var apiserver = Kubeadm.Pki("apiserver.crt");
        var leafAlone = Encoding.ASCII.GetBytes(cluster.Bundle("cp-1", apiserver).First!.ExportCertificatePem() + "\n");
        var what = model.Evaluate(switched, [new ProposedChange.FileWrite("cp-1", apiserver, leafAlone)]);
        var broken = Assert.Single(what.Worsened, e => e.Id == OperatorEdge);
        Assert.Equal(EdgeState.Broken, broken.State);
        Assert.Contains(broken.Reasons, r => r.Contains("trusts only CA kubernetes", StringComparison.Ordinal) && r.Contains("API server on cp-1", StringComparison.Ordinal));

        // complete: proves every leaf is the new CA's (the chain after it does not matter), then leaves each leaf alone.
        var completed = await CaRotation.CompleteAsync(new FinishRequest(), Gated(cluster, null));
        Assert.Equal(RotationPhase.Completed, completed.Phase);
        Assert.Contains(completed.Steps, s => s.Id == "distrust/ca/leaf-alone/cp-2/apiserver" && s.Outcome == StepOutcome.Applied);
        foreach (var cp in NodeDirectoryCluster.ControlPlaneNames)
            foreach (var leaf in KubeadmCatalog.Leaves)
            {
                var file = cluster.NodeRoot(cp) + Kubeadm.Pki(leaf.CertFile);
                Assert.Equal(1, cluster.Bundle(cp, Kubeadm.Pki(leaf.CertFile)).Count);
                ExternalTool.Ok("openssl", "verify", "-CAfile", cluster.NodeRoot(cp) + Paths.CaCert(leaf.Ca), file);
                Assert.NotEqual(0, ExternalTool.Run("openssl", "verify", "-CAfile", oldCas[leaf.Ca], file).ExitCode);
            }
        var after = model.Evaluate(await SnapshotAsync(cluster, oldAdmin)).Edge(OperatorEdge);
        Assert.Equal(EdgeState.Broken, after!.State);
    }

    [Fact]
    public async Task Without_cross_sign_the_gate_refuses_the_switch_that_would_break_a_client_trusting_only_the_old_ca()
    {
        using var cluster = fixture.Template.Copy();
        var oldAdmin = Path.Combine(cluster.Root, "admin-before.conf");
        File.WriteAllBytes(oldAdmin, File.ReadAllBytes(cluster.NodeRoot("cp-1") + Kubeadm.AdminConf));

        var refused = await Assert.ThrowsAsync<StepRefusedException>(() => CaRotation.StartAsync(Request(crossSign: false), Gated(cluster, oldAdmin)));

        Assert.StartsWith("switch/ca/reissue/", refused.StepId);
        Assert.EndsWith("/apiserver", refused.StepId);
        Assert.Contains(refused.Reasons, r => r.Contains($"({OperatorEdge})", StringComparison.Ordinal) && r.Contains("apiserver.crt", StringComparison.Ordinal));
        var status = await CaRotation.StatusAsync(cluster.Cluster(null));
        Assert.Equal(RotationPhase.Switching, status.Phase);
    }
}
