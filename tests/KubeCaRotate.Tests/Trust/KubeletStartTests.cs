using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Tests.Rotation;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Tests.Trust;

/// <summary>
/// The kubelet's start as the node reports it (the inventory's kubeletStartedAt command, run for real on node
/// directories): kubelet.conf changed after that start is at risk until the kubelet restarts, a failing or garbled
/// command leaves the start unknown with the reason as a note, and the rotation's gate counts a kubelet restart step as
/// the kubelet's new start.
/// </summary>
public sealed class KubeletStartTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static readonly KubeadmPaths P = KubeadmPaths.Default;
    private static readonly DateTimeOffset ConfChangedAt = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private const string Edge = "worker-1/kubelet->endpoint";

    /// <summary>Reads the cluster through an inventory whose worker-1 reports its kubelet's start with <paramref name="startCommand"/>.</summary>
    private static async Task<ClusterSnapshot> ReadAsync(NodeDirectoryCluster cluster, params string[] startCommand)
    {
        File.SetLastWriteTimeUtc(cluster.NodeRoot("worker-1") + P.KubeletConf, ConfChangedAt.UtcDateTime);
        var yaml = new StringBuilder("apiVersion: kube-ca-rotate/v1\nkind: Inventory\nnodes:\n");
        foreach (var node in cluster.NodeNames)
        {
            yaml.Append($"- name: {node}\n  roles: [{(NodeDirectoryCluster.ControlPlaneNames.Contains(node) ? "control-plane" : "worker")}]\n  access:\n    local:\n      root: {cluster.NodeRoot(node)}\n");
            // The control planes report nothing: `true` prints no timestamp.
            var command = node == "worker-1" ? startCommand : ["true"];
            yaml.Append("  kubeletStartedAt: [").Append(string.Join(", ", command.Select(a => $"\"{a}\""))).Append("]\n");
        }
        var inventory = Inventory.Parse(yaml.ToString(), "test inventory", cluster.Root);
        var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(inventory, null, null, null, CancellationToken.None);
        Assert.Empty(snapshot.Problems);
        return snapshot;
    }

    [Fact]
    public async Task A_kubelet_conf_changed_after_the_reported_start_is_at_risk_and_a_restart_fixes_it()
    {
        using var cluster = fixture.Template.Copy();
        var snapshot = await ReadAsync(cluster, "echo", "Sun 2026-11-29 09:50:00 UTC");

        Assert.Equal(ConfChangedAt.AddMinutes(-10), snapshot.Node("worker-1")!.KubeletStart!.StartedAt);
        var report = new TrustModel().Evaluate(snapshot);
        var edge = report.Edge(Edge)!;
        Assert.Equal(EdgeState.AtRisk, edge.State);
        Assert.Contains("Kubelet on node worker-1 started at 2026-11-29 09:50:00Z, before /etc/kubernetes/kubelet.conf changed at 2026-11-29 10:00:00Z, so it still uses the previous content; restart it to load the file on disk.", edge.Reasons);
        Assert.Contains("The files on disk are right: after that restart this edge works.", edge.Reasons);
        Assert.Single(report.Edges, e => e.State != EdgeState.Healthy);

        var restarted = new TrustModel().Evaluate(snapshot, [new ProposedChange.Restart("worker-1", ComponentReloads.Kubelet)]);
        Assert.Equal(EdgeState.Healthy, restarted.After.Edge(Edge)!.State);
    }

    [Fact]
    public async Task A_kubelet_started_after_its_kubelet_conf_changed_is_healthy_without_a_start_note()
    {
        using var cluster = fixture.Template.Copy();
        var snapshot = await ReadAsync(cluster, "echo", "Sun 2026-11-29 10:10:00 UTC");

        var edge = new TrustModel().Evaluate(snapshot).Edge(Edge)!;
        Assert.Equal(EdgeState.Healthy, edge.State);
        Assert.DoesNotContain(edge.Notes, n => n.Contains("no known start time"));
    }

    [Theory]
    [InlineData("inactive")]
    [InlineData("failed")]
    public async Task A_stopped_kubelet_serves_nothing_and_connects_to_nothing_until_a_restart_starts_it(string state)
    {
        using var cluster = fixture.Template.Copy();
        // What `systemctl show` prints after `systemctl stop kubelet`: ActiveEnterTimestamp keeps the last start.
        var snapshot = await ReadAsync(cluster, "printf", $"ActiveState={state}\\nActiveEnterTimestamp=Sun 2026-11-29 10:10:00 UTC\\n");

        var start = snapshot.Node("worker-1")!.KubeletStart!;
        Assert.Equal(state, start.NotRunning);
        Assert.Equal(ConfChangedAt.AddMinutes(10), start.StartedAt);
        var report = new TrustModel().Evaluate(snapshot);
        var apiServerEdges = NodeDirectoryCluster.ControlPlaneNames.Select(cp => $"{cp}/kube-apiserver->worker-1/kubelet").ToList();
        // Exactly its own client edge and the API servers' edges to it, each broken with the reason.
        Assert.Equal([.. apiServerEdges, Edge], report.Edges.Where(e => e.State != EdgeState.Healthy).Select(e => e.Id).Order(StringComparer.Ordinal));
        foreach (var id in apiServerEdges.Append(Edge))
        {
            var edge = report.Edge(id)!;
            Assert.Equal(EdgeState.Broken, edge.State);
            Assert.Equal(
                [$"Kubelet on node worker-1 is not running (systemd reports its unit {state}), so this connection is down; start it (systemctl start kubelet).",
                 "The files on disk are right: when the kubelet starts this edge works."],
                edge.Reasons);
        }

        // A restart (systemctl restart starts a stopped unit) brings every edge back.
        var restarted = new TrustModel().Evaluate(snapshot, [new ProposedChange.Restart("worker-1", ComponentReloads.Kubelet)]);
        Assert.All(restarted.After.Edges, e => Assert.Equal(EdgeState.Healthy, e.State));
        Assert.Empty(restarted.Worsened);

        // When it starts with a kubelet.conf that trusts only another CA, its edge stays broken and says why.
        var newCa = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(365));
        var conf = Kubeconfig.Parse(File.ReadAllBytes(cluster.NodeRoot("worker-1") + P.KubeletConf), "kubelet.conf");
        conf.SetCertificateAuthorityData(conf.CurrentCluster!.Name, Encoding.ASCII.GetBytes(newCa.CertificatePem()));
        var wrong = new TrustModel().Evaluate(snapshot, [new ProposedChange.FileWrite("worker-1", P.KubeletConf, conf.ToBytes())]).After.Edge(Edge)!;
        Assert.Equal(EdgeState.Broken, wrong.State);
        Assert.StartsWith("Kubelet on node worker-1 is not running", wrong.Reasons[0]);
        Assert.StartsWith("When it starts, with the files on disk: ", wrong.Reasons[1]);
        Assert.Contains("trusts only CA", wrong.Reasons[1]);
    }

    [Fact]
    public async Task An_active_kubelet_reported_as_systemctl_show_prints_it_is_running_since_its_start()
    {
        using var cluster = fixture.Template.Copy();
        var snapshot = await ReadAsync(cluster, "printf", "ActiveState=active\\nActiveEnterTimestamp=Sun 2026-11-29 09:50:00 UTC\\n");

        var start = snapshot.Node("worker-1")!.KubeletStart!;
        Assert.Null(start.NotRunning);
        Assert.Equal(ConfChangedAt.AddMinutes(-10), start.StartedAt);
        Assert.Equal(EdgeState.AtRisk, new TrustModel().Evaluate(snapshot).Edge(Edge)!.State);
    }

    [Theory]
    [InlineData(new[] { "false" }, "'false' on node worker-1 gave no start time: it exited with code 1")]
    [InlineData(new[] { "echo", "active" }, "'echo active' on node worker-1 gave no start time: 'active' is not a systemd timestamp")]
    [InlineData(new[] { "echo", "Sun 2026-11-29 09:50:00 CET" }, "is in the time zone CET, whose abbreviation does not name one UTC offset; run systemctl with TZ=UTC")]
    [InlineData(new[] { "echo", "n/a" }, "it printed no timestamp, so the kubelet has not started since boot")]
    [InlineData(new[] { "kcr-no-such-program" }, "Cannot run 'kcr-no-such-program' on node worker-1")]
    [InlineData(new[] { "printf", "ActiveState=active\\nSubState=running\\n" }, "it printed SubState, but only ActiveState and ActiveEnterTimestamp are read")]
    public async Task A_start_command_that_fails_or_prints_no_timestamp_leaves_the_start_unknown_with_the_reason_as_a_note(string[] command, string why)
    {
        using var cluster = fixture.Template.Copy();
        var snapshot = await ReadAsync(cluster, command);

        var start = snapshot.Node("worker-1")!.KubeletStart!;
        Assert.Null(start.StartedAt);
        Assert.Contains(why, start.Unknown);
        var edge = new TrustModel().Evaluate(snapshot).Edge(Edge)!;
        // Unknown start: the file on disk is assumed loaded, and the edge says so and why.
        Assert.Equal(EdgeState.Healthy, edge.State);
        var note = Assert.Single(edge.Notes, n => n.StartsWith("kubelet on node worker-1 has no known start time (", StringComparison.Ordinal));
        Assert.Contains(why, note);
        Assert.EndsWith("assuming it loaded /etc/kubernetes/kubelet.conf as it is on disk now.", note);
    }

    [Fact]
    public async Task The_gate_allows_writing_kubelet_conf_then_restarting_the_kubelet_and_refuses_the_restart_when_the_file_is_wrong()
    {
        using var cluster = fixture.Template.Copy();
        var snapshot = await ReadAsync(cluster, "echo", "Sun 2026-11-29 10:10:00 UTC");
        var nodes = cluster.Nodes();
        var newCa = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(365));
        byte[] Conf(string caPem)
        {
            var conf = Kubeconfig.Parse(File.ReadAllBytes(cluster.NodeRoot("worker-1") + P.KubeletConf), "kubelet.conf");
            conf.SetCertificateAuthorityData(conf.CurrentCluster!.Name, Encoding.ASCII.GetBytes(caPem));
            return conf.ToBytes();
        }
        var oldCa = Kubeconfig.Parse(File.ReadAllBytes(cluster.NodeRoot("worker-1") + P.KubeletConf), "kubelet.conf").CurrentCluster!.CertificateAuthorityData!;
        var restart = new StepChange.RunCommand("worker-1", ComponentReloads.Kubelet, ["true"]);

        // Both CAs in kubelet.conf, then the kubelet restart: the restart step is the kubelet's start, nothing breaks.
        var gate = new TrustModelGate(snapshot, new TrustModel());
        Assert.Empty(await gate.CheckAsync(StepOn("write"), [new StepChange.FileWrite("worker-1", P.KubeletConf, Conf(Encoding.ASCII.GetString(oldCa).TrimEnd() + "\n" + newCa.CertificatePem()), FileModes.Private, "test")], nodes, CancellationToken.None));
        Assert.Empty(await gate.CheckAsync(StepOn("restart"), [restart], nodes, CancellationToken.None));
        Assert.Equal(2, gate.Applied.Count);

        // Only the new CA: the write is allowed (the kubelet keeps what it loaded), its restart is refused.
        var wrong = new TrustModelGate(snapshot, new TrustModel());
        Assert.Empty(await wrong.CheckAsync(StepOn("write"), [new StepChange.FileWrite("worker-1", P.KubeletConf, Conf(newCa.CertificatePem()), FileModes.Private, "test")], nodes, CancellationToken.None));
        var reason = Assert.Single(await wrong.CheckAsync(StepOn("restart"), [restart], nodes, CancellationToken.None));
        Assert.Contains($"({Edge})", reason);
    }

    private static Step StepOn(string id) => new()
    {
        Id = id, Name = id, ProcedureRows = [], Node = "worker-1", Batch = "test",
        Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([]),
    };
}
