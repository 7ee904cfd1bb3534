using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>
/// The trust graph as the engine's gate, on a snapshot read from node directories written by kubeadm's code: steps that
/// would break a connection are refused with a reason per broken edge, steps that keep every edge up are allowed and
/// remembered as applied, so a later restart is judged against the files the earlier steps wrote.
/// </summary>
public class TrustModelGateTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;

    private static async Task<(TrustModelGate Gate, RotationNodes Nodes)> GateAsync(NodeDirectoryCluster cluster)
    {
        var targets = cluster.NodeNames.Select(n => new NodeTarget(n, NodeDirectoryCluster.ControlPlaneNames.Contains(n) ? ["control-plane"] : ["worker"], null, cluster.Node(n))).ToList();
        var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(targets, null, null, Kubeadm, null, CancellationToken.None);
        Assert.Empty(snapshot.Problems);
        var model = new TrustModel();
        var report = model.Evaluate(snapshot);
        Assert.True(report.State == EdgeState.Healthy, string.Join("\n", report.Edges.Where(e => e.State != EdgeState.Healthy).SelectMany(e => e.Reasons)));
        return (new TrustModelGate(snapshot, model), cluster.Nodes());
    }

    private static Step StepOn(string node, string id) => new()
    {
        Id = id, Name = id, ProcedureRows = [], Node = node, Batch = "test",
        Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([]),
    };

    private static StepChange.FileWrite Write(string node, string path, string content) =>
        new(node, path, Encoding.ASCII.GetBytes(content), FileModes.Public, "test");

    private static CertificateAuthority NewClusterCa() =>
        CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(365));

    [Fact]
    public async Task A_new_ca_only_ca_crt_during_the_trust_phase_is_refused_naming_every_edge_it_breaks()
    {
        using var cluster = fixture.Template.Copy();
        var (gate, nodes) = await GateAsync(cluster);
        var newCa = NewClusterCa();

        var reasons = await gate.CheckAsync(StepOn("cp-1", "replace-ca"), [Write("cp-1", Kubeadm.CaCert, newCa.CertificatePem())], nodes, CancellationToken.None);

        // cp-1's API server re-reads --client-ca-file: every client certificate of the old CA is refused there, and
        // cp-1's kubelet re-reads its clientCAFile: the API servers' kubelet client certificate is refused by it.
        Assert.Contains(reasons, r => r.Contains("(cp-1/kube-controller-manager->cp-1/kube-apiserver)") && r.Contains("API server on cp-1 trusts only CA kubernetes"));
        Assert.Contains(reasons, r => r.Contains("(cp-1/kube-scheduler->cp-1/kube-apiserver)"));
        Assert.Contains(reasons, r => r.Contains("(worker-1/kubelet->endpoint)") && r.StartsWith("kubelet on node worker-1 → the HA endpoint", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("(cp-2/kube-apiserver->cp-1/kubelet)") && r.Contains("clientCAFile /etc/kubernetes/pki/ca.crt on cp-1"));
        // cp-2 keeps the old CA: its own clients stay up and are not reasons.
        Assert.DoesNotContain(reasons, r => r.Contains("(cp-2/kube-controller-manager->cp-2/kube-apiserver)"));
        Assert.DoesNotContain(reasons, r => r.Contains("etcd"));
        Assert.Equal(reasons.Count, reasons.Distinct().Count());
        Assert.Empty(gate.Applied);
    }

    [Fact]
    public async Task Adding_the_new_ca_to_every_bundle_is_allowed_and_recorded_as_applied()
    {
        using var cluster = fixture.Template.Copy();
        var (gate, nodes) = await GateAsync(cluster);
        var newCa = NewClusterCa();
        var changes = new List<StepChange>();
        foreach (var node in cluster.NodeNames)
            changes.Add(Write(node, Kubeadm.CaCert, cluster.Read(node, Kubeadm.CaCert).TrimEnd() + "\n" + newCa.CertificatePem()));

        var reasons = await gate.CheckAsync(StepOn("cp-1", "add-ca"), changes, nodes, CancellationToken.None);

        Assert.Empty(reasons);
        Assert.Equal(cluster.NodeNames.Count(), gate.Applied.Count);
        // Restarting every API server afterwards (a manifest write) loads the bundle; still nothing breaks.
        var restarts = NodeDirectoryCluster.ControlPlaneNames.Select(n => (StepChange)new StepChange.RunCommand(n, ComponentReloads.ApiServer, ["true"])).ToList();
        Assert.Empty(await gate.CheckAsync(StepOn("cp-1", "restart"), restarts, nodes, CancellationToken.None));
    }

    [Fact]
    public async Task Restarting_a_kubelet_whose_kubelet_conf_trusts_only_a_foreign_ca_is_refused()
    {
        using var cluster = fixture.Template.Copy();
        var (gate, nodes) = await GateAsync(cluster);
        var foreign = NewClusterCa();
        var conf = Kubeconfig.Parse(File.ReadAllBytes(cluster.NodeRoot("worker-1") + Kubeadm.KubeletConf), "kubelet.conf");
        conf.SetCertificateAuthorityData(conf.CurrentCluster!.Name, Encoding.ASCII.GetBytes(foreign.CertificatePem()));
        var write = new StepChange.FileWrite("worker-1", Kubeadm.KubeletConf, conf.ToBytes(), FileModes.Private, "test");

        // The kubelet reads kubelet.conf only at its start: writing it breaks nothing yet (the edge is at risk).
        Assert.Empty(await gate.CheckAsync(StepOn("worker-1", "write-conf"), [write], nodes, CancellationToken.None));
        Assert.Single(gate.Applied);

        var reasons = await gate.CheckAsync(StepOn("worker-1", "restart-kubelet"), [new StepChange.RunCommand("worker-1", "kubelet", ["true"])], nodes, CancellationToken.None);

        var reason = Assert.Single(reasons);
        Assert.StartsWith("kubelet on node worker-1 → the HA endpoint", reason);
        Assert.Contains("(worker-1/kubelet->endpoint)", reason);
        Assert.Contains($"Kubelet on node worker-1 trusts only CA kubernetes [{CertificateFacts.Sha256Fingerprint(foreign.Certificate)[..8]}]", reason);
        Assert.Single(gate.Applied);
    }

    [Fact]
    public async Task A_manifest_write_restarts_its_pod_in_the_model()
    {
        using var cluster = fixture.Template.Copy();
        var (gate, nodes) = await GateAsync(cluster);
        var foreign = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.EtcdCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(365));
        // etcd reads --trusted-ca-file only at its start: a foreign-only file is harmless until etcd restarts...
        Assert.Empty(await gate.CheckAsync(StepOn("cp-1", "etcd-ca"), [Write("cp-1", Kubeadm.EtcdCaCert, foreign.CertificatePem())], nodes, CancellationToken.None));
        // ...and a manifest write is that restart, as the kubelet does it.
        var manifest = StaticPodManifest.Parse(File.ReadAllBytes(cluster.NodeRoot("cp-1") + Kubeadm.EtcdManifest), "etcd.yaml");
        manifest.SetAnnotation("test/restart", "1");
        var reasons = await gate.CheckAsync(StepOn("cp-1", "etcd-restart"), [new StepChange.FileWrite("cp-1", Kubeadm.EtcdManifest, manifest.ToBytes(), FileModes.Private, "test")], nodes, CancellationToken.None);
        Assert.Contains(reasons, r => r.Contains("(cp-1/kube-apiserver->cp-1/etcd)"));
        Assert.Contains(reasons, r => r.Contains("(cp-2/etcd->cp-1/etcd)"));
    }
}
