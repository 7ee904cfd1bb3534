using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Tests.Trust;

public sealed class TrustModelTests
{
    private static readonly KubeadmPaths P = KubeadmPaths.Default;

    [Fact]
    public void A_fresh_kubeadm_cluster_has_every_kind_of_edge_and_all_are_healthy()
    {
        var c = new SyntheticCluster();
        var report = new TrustModel().Evaluate(c.Snapshot);

        Assert.All(report.Edges, e => Assert.True(e.State == EdgeState.Healthy, $"{e.Id}: {string.Join(" ", e.Reasons)}"));
        foreach (var kind in new[] { EdgeKind.Admin, EdgeKind.ControllerManager, EdgeKind.Scheduler, EdgeKind.Kubelet, EdgeKind.KubeletApi, EdgeKind.EtcdClient, EdgeKind.EtcdPeer, EdgeKind.Pod })
            Assert.Contains(report.Edges, e => e.Kind == kind);
        Assert.NotNull(report.Edge("worker-2/kubelet->endpoint"));
        Assert.NotNull(report.Edge("cp-1/kube-controller-manager->cp-1/kube-apiserver"));
        Assert.NotNull(report.Edge("cp-2/etcd->cp-3/etcd"));
        Assert.NotNull(report.Edge("cp-3/kube-apiserver->worker-1/kubelet"));
        Assert.NotNull(report.Edge("ns-2/app-0->endpoint"));
        Assert.Equal(6, report.Edges.Count(e => e.Kind == EdgeKind.EtcdPeer));
    }

    [Fact]
    public void Serving_the_API_from_a_new_CA_before_the_kubelets_trust_it_is_reported_with_the_edge_and_the_CA()
    {
        var c = new SyntheticCluster();
        var newCa = c.Issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        var change = ReissueApiServer(c, "cp-2", newCa);

        var result = new TrustModel().Evaluate(c.Snapshot, [Stage(newCa), change]);

        Assert.False(result.IsSafe);
        var kubelet = Assert.Single(result.Worsened, e => e.Id == "worker-1/kubelet->endpoint");
        Assert.Equal(EdgeState.Broken, kubelet.State);
        var reason = Assert.Single(kubelet.Reasons);
        Assert.StartsWith("Kubelet on node worker-1 trusts only CA kubernetes [", reason);
        Assert.Contains("API server on cp-2 serves a certificate from CA kubernetes [" + CertificateFacts.Sha256Fingerprint(newCa.Certificate)[..8] + "]", reason);
        Assert.Contains(result.Worsened, e => e.Id == "ns-1/app-0->endpoint");
        Assert.DoesNotContain(result.Worsened, e => e.Kind is EdgeKind.EtcdPeer or EdgeKind.EtcdClient);
        Assert.All(result.Before.Edges, e => Assert.Equal(EdgeState.Healthy, e.State));
    }

    [Fact]
    public void Replaying_the_manual_rotation_in_order_breaks_nothing_and_skipping_a_restart_is_caught()
    {
        var c = new SyntheticCluster();
        var oldCa = c.Shared.Cluster.Certificate;
        var newCa = c.Issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        var bundle = Encoding.ASCII.GetString(SyntheticCluster.Pem(oldCa, newCa.Certificate));
        var trust = new List<ProposedChange>();
        foreach (var node in c.Snapshot.Nodes)
        {
            // Steps 7 and 10/11.2: ca.crt (client-ca-file, clientCAFile) and every kubeconfig's CA data hold old + new.
            trust.Add(new ProposedChange.FileWrite(node.Name, P.CaCert, Encoding.ASCII.GetBytes(bundle)));
            foreach (var conf in P.Kubeconfigs.Where(node.Files.ContainsKey))
                trust.Add(new ProposedChange.FileWrite(node.Name, conf, WithCa(c.File(node.Name, conf), bundle)));
        }
        // Steps 2-6: kube-root-ca.crt (from the controller-manager's --root-ca-file) in every namespace.
        foreach (var ns in c.Snapshot.Objects!.Namespaces)
            trust.Add(new ProposedChange.ObjectWrite(ClusterObjects.KubeRootCa(ns), "data[ca.crt]", bundle));
        var trustOnly = new TrustModel().Evaluate(c.Snapshot, trust);
        Assert.True(trustOnly.IsSafe, string.Join("\n", trustOnly.Worsened.SelectMany(e => e.Reasons)));

        var restarts = c.Snapshot.Nodes.SelectMany(n => n.IsControlPlane
                ? new ProposedChange[] { new ProposedChange.Restart(n.Name, "kube-controller-manager"), new ProposedChange.Restart(n.Name, "kube-scheduler"), new ProposedChange.Restart(n.Name, "kubelet") }
                : [new ProposedChange.Restart(n.Name, "kubelet")])
            .Append(new ProposedChange.RestartPods("*", "*")).ToList();
        var switchApi = c.Snapshot.Nodes.Where(n => n.IsControlPlane).Select(n => ReissueApiServer(c, n.Name, newCa)).ToList();

        var inOrder = new TrustModel().Evaluate(c.Snapshot, [.. trust, .. restarts, .. switchApi]);
        Assert.True(inOrder.IsSafe, string.Join("\n", inOrder.Worsened.SelectMany(e => e.Reasons)));
        Assert.DoesNotContain(inOrder.After.Edges, e => e.State != EdgeState.Healthy && e.Kind != EdgeKind.Admin);

        // The same steps without restarting worker-2's kubelet: it still trusts only the old CA it loaded at start.
        var skipped = restarts.Where(r => r is not ProposedChange.Restart { Node: "worker-2", Component: "kubelet" }).ToList();
        var wrong = new TrustModel().Evaluate(c.Snapshot, [.. trust, .. skipped, .. switchApi]);
        var edge = Assert.Single(wrong.Worsened, e => e.State == EdgeState.Broken);
        Assert.Equal("worker-2/kubelet->endpoint", edge.Id);
        Assert.Contains(edge.Reasons, r => r.StartsWith("Kubelet on node worker-2 trusts only CA kubernetes [" + CertificateFacts.Sha256Fingerprint(oldCa)[..8] + "]")
            && r.Contains("serves a certificate from CA kubernetes [" + CertificateFacts.Sha256Fingerprint(newCa.Certificate)[..8] + "]"));
    }

    [Fact]
    public void A_file_changed_after_its_component_started_is_at_risk_with_a_sentence_naming_both_times()
    {
        var c = new SyntheticCluster();
        var nodes = c.Snapshot.Nodes.Select(n => n.Name != "cp-1" ? n : n with
        {
            Files = new Dictionary<string, NodeFile>(n.Files) { [P.ControllerManagerConf] = n.Files[P.ControllerManagerConf] with { ModifiedAt = c.Now.AddMinutes(-5) } },
        }).ToList();
        var report = new TrustModel().Evaluate(c.Snapshot with { Nodes = nodes });

        var edge = report.Edge("cp-1/kube-controller-manager->cp-1/kube-apiserver")!;
        Assert.Equal(EdgeState.AtRisk, edge.State);
        Assert.Contains(edge.Reasons, r => r.StartsWith("Controller-manager on cp-1 started at ") && r.Contains("before /etc/kubernetes/controller-manager.conf changed at") && r.Contains("restart it"));
        Assert.Single(report.Edges, e => e.State != EdgeState.Healthy);
    }

    [Fact]
    public void An_expired_API_server_certificate_breaks_its_clients_with_the_expiry_named()
    {
        var c = new SyntheticCluster();
        var apiCert = PemBundle.Parse(Encoding.ASCII.GetString(c.File("cp-1", P.Pki("apiserver.crt"))), "apiserver.crt").First!;
        var report = new TrustModel().Evaluate(c.Snapshot, new DateTimeOffset(apiCert.NotAfter.ToUniversalTime()).AddDays(1));

        var edge = report.Edge("cp-1/kube-controller-manager->cp-1/kube-apiserver")!;
        Assert.Equal(EdgeState.Broken, edge.State);
        Assert.Contains(edge.Reasons, r => r.Contains("API server on cp-1 has a certificate (CN=kube-apiserver) that expired at"));
    }

    [Fact]
    public void An_etcd_peer_certificate_from_a_foreign_CA_is_rejected_by_every_other_member()
    {
        var c = new SyntheticCluster();
        var foreign = c.Issuer.NewCertificateAuthority(KubeadmCatalog.EtcdCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(365));
        var peer = PemBundle.Parse(Encoding.ASCII.GetString(c.File("cp-3", P.Pki("etcd/peer.crt"))), "peer.crt").First!;
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var reissued = c.Issuer.Reissue(peer, key, foreign, TimeSpan.FromDays(30));
        var result = new TrustModel().Evaluate(c.Snapshot, [Stage(foreign), new ProposedChange.FileWrite("cp-3", P.Pki("etcd/peer.crt"), SyntheticCluster.Pem(reissued))]);

        Assert.Equal(["cp-1/etcd->cp-3/etcd", "cp-2/etcd->cp-3/etcd", "cp-3/etcd->cp-1/etcd", "cp-3/etcd->cp-2/etcd"], result.Worsened.Select(e => e.Id).Order().ToArray());
        Assert.Contains(result.After.Edge("cp-3/etcd->cp-1/etcd")!.Reasons, r => r.StartsWith("Etcd on cp-1 trusts only CA etcd-ca [") && r.Contains("etcd on cp-3 presents a certificate from CA etcd-ca [" + CertificateFacts.Sha256Fingerprint(foreign.Certificate)[..8]));
    }

    /// <summary>Procedure step 1: the new CA is distributed to a control plane before anything uses it.</summary>
    private static ProposedChange Stage(CertificateAuthority ca) =>
        new ProposedChange.FileWrite("cp-1", P.Pki("new/" + CertificateFacts.Sha256Fingerprint(ca.Certificate)[..8] + ".crt"), SyntheticCluster.Pem(ca.Certificate));

    private static ProposedChange ReissueApiServer(SyntheticCluster c, string node, CertificateAuthority ca)
    {
        var old = PemBundle.Parse(Encoding.ASCII.GetString(c.File(node, P.Pki("apiserver.crt"))), "apiserver.crt").First!;
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        return new ProposedChange.FileWrite(node, P.Pki("apiserver.crt"), SyntheticCluster.Pem(c.Issuer.Reissue(old, key, ca, TimeSpan.FromDays(365))));
    }

    private static byte[] WithCa(byte[] kubeconfig, string bundle)
    {
        var k = Kubeconfig.Parse(kubeconfig);
        foreach (var cluster in k.Clusters) k.SetCertificateAuthorityData(cluster.Name, Encoding.ASCII.GetBytes(bundle));
        return k.ToBytes();
    }
}
