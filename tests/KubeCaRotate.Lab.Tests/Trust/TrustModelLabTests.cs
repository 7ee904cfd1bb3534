using System.Text;
using System.Text.Json;
using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Tests.Prober;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Lab.Tests.Trust;

/// <summary>
/// `verify`, `scan` and the what-if against a real lab, checked by the lab's prober: a healthy lab is all healthy;
/// each planted misconfiguration is named by verify as exactly the edges the prober sees failing on trust, with its
/// cause; a what-if agrees with the prober edge for edge once applied. One lab; every test undoes its plant and waits
/// for the prober to be clean again.
/// </summary>
public class TrustModelLabTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    private static readonly KubeadmPaths Paths = KubeadmPaths.Default;
    private readonly PlantedLab _lab = new(fixture);

    private static string Short(CertificateAuthority ca) => CertificateFacts.Sha256Fingerprint(ca.Certificate)[..8];

    /// <summary>Polls verify until its not-healthy edges are exactly <paramref name="expected"/> (id → state), then returns the report.</summary>
    private async Task<(int ExitCode, Dictionary<string, (string State, string Reasons)> Edges)> VerifyUntilAsync(Dictionary<string, string> expected)
    {
        (int, JsonElement) last = default;
        Dictionary<string, (string State, string Reasons)> notHealthy = [];
        var deadline = DateTimeOffset.UtcNow + ProbeWatch.Patience;
        while (true)
        {
            last = await _lab.VerifyAsync();
            notHealthy = PlantedLab.NotHealthy(last.Item2);
            if (notHealthy.Count == expected.Count && expected.All(e => notHealthy.TryGetValue(e.Key, out var s) && s.State == e.Value)) break;
            if (DateTimeOffset.UtcNow > deadline)
                Assert.Fail($"verify never named exactly {string.Join(", ", expected.Select(e => $"{e.Key}={e.Value}"))}; last:\n{string.Join("\n", notHealthy.Select(e => $"{e.Key} {e.Value.State}: {e.Value.Reasons}"))}");
            await Task.Delay(1000);
        }
        return (last.Item1, notHealthy);
    }

    private async Task AssertProberFailsExactlyAsync(params string[] edges)
    {
        var failing = await _lab.ProberTrustFailuresAsync();
        Assert.True(edges.Order().SequenceEqual(failing.Keys.Order()),
            $"the prober should fail on trust on exactly {string.Join(", ", edges)} but failed on:\n{string.Join("\n", failing.Select(f => $"{f.Key}: {f.Value}"))}");
    }

    [Fact]
    public async Task A_healthy_lab_verifies_healthy_with_exit_0_and_names_every_probed_edge()
    {
        await _lab.UntilProberCleanAsync();
        var (exit, report) = await _lab.VerifyAsync();
        var edges = PlantedLab.Edges(report);
        Assert.True(exit == 0, string.Join("\n", PlantedLab.NotHealthy(report).Select(e => $"{e.Key}: {e.Value.Reasons}")));
        Assert.All(edges, e => Assert.Equal("healthy", e.Value.State));
        // Every edge the prober opens is an edge of the model, under the same id.
        var probed = new ProbeWatch(fixture.Lab).Since(DateTimeOffset.UtcNow.AddSeconds(-5)).Select(r => PlantedLab.ModelId(r.Edge)).Distinct().ToList();
        Assert.NotEmpty(probed);
        Assert.All(probed, id => Assert.True(edges.ContainsKey(id), $"the prober's edge {id} is not in verify's report"));
    }

    [Fact]
    public async Task A_worker_kubelet_conf_trusting_only_another_ca_breaks_exactly_its_edge_once_restarted()
    {
        const string edge = "worker-1/kubelet->endpoint";
        var original = _lab.Read("worker-1", Paths.KubeletConf);
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        _lab.Write("worker-1", Paths.KubeletConf, _lab.KubeconfigTrusting("worker-1", Paths.KubeletConf, foreign.CertificatePem()));
        var planted = DateTimeOffset.UtcNow;
        try
        {
            await _lab.RestartKubeletAsync("worker-1", mayStayNotReady: true);
            await _lab.UntilProberFailsAsync(edge, planted);
            var (exit, edges) = await VerifyUntilAsync(new() { [edge] = "broken" });
            Assert.Equal(1, exit);
            Assert.Contains($"Kubelet on node worker-1 trusts only CA kubernetes [{Short(foreign)}]", edges[edge].Reasons);
            await AssertProberFailsExactlyAsync(edge);
        }
        finally
        {
            _lab.Write("worker-1", Paths.KubeletConf, original);
            await _lab.RestartKubeletAsync("worker-1");
        }
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task An_api_server_client_ca_file_without_the_ca_of_the_controller_managers_certificate_breaks_exactly_that_edge()
    {
        const string edge = "cp-1/kube-controller-manager->cp-1/kube-apiserver";
        var original = _lab.Read("cp-1", Paths.ControllerManagerConf);
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        // The controller-manager's client certificate from a CA that cp-1's --client-ca-file (ca.crt) does not hold.
        var conf = Kubeconfig.Parse(original, Paths.ControllerManagerConf);
        var user = conf.CurrentUser!;
        using (var key = PrivateKey.FromPem(Encoding.ASCII.GetString(user.ClientKeyData!), "controller-manager.conf"))
        {
            var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(user.ClientCertificateData!));
            var reissued = CertificateIssuer.System.Reissue(cert, key, foreign, TimeSpan.FromDays(30));
            conf.SetClientCertificateData(user.Name, Encoding.ASCII.GetBytes(reissued.ExportCertificatePem() + "\n"), user.ClientKeyData!);
        }
        _lab.Write("cp-1", Paths.ControllerManagerConf, conf.ToBytes());
        var planted = DateTimeOffset.UtcNow;
        try
        {
            await _lab.RestartStaticPodAsync("cp-1", "kube-controller-manager");
            await _lab.UntilProberFailsAsync(edge, planted);
            var (exit, edges) = await VerifyUntilAsync(new() { [edge] = "broken" });
            Assert.Equal(1, exit);
            Assert.Contains("API server on cp-1 trusts only CA kubernetes", edges[edge].Reasons);
            Assert.Contains("--client-ca-file /etc/kubernetes/pki/ca.crt on cp-1", edges[edge].Reasons);
            // The foreign CA appears nowhere in the cluster: the model names it by its subject.
            Assert.Contains("controller-manager on cp-1 presents a certificate from an unknown CA (CN=kubernetes) (client-certificate-data of /etc/kubernetes/controller-manager.conf on cp-1)", edges[edge].Reasons);
            await AssertProberFailsExactlyAsync(edge);
        }
        finally
        {
            _lab.Write("cp-1", Paths.ControllerManagerConf, original);
            await _lab.RestartStaticPodAsync("cp-1", "kube-controller-manager");
        }
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task An_etcd_peer_certificate_from_a_foreign_ca_breaks_exactly_the_peer_edges_of_that_member()
    {
        string[] edges = ["cp-1/etcd->cp-2/etcd", "cp-3/etcd->cp-2/etcd", "cp-2/etcd->cp-1/etcd", "cp-2/etcd->cp-3/etcd"];
        var peerCert = Paths.Pki("etcd/peer.crt");
        var original = _lab.Read("cp-2", peerCert);
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.EtcdCa);
        _lab.Write("cp-2", peerCert, _lab.Reissued("cp-2", peerCert, Paths.Pki("etcd/peer.key"), foreign));
        var planted = DateTimeOffset.UtcNow;
        try
        {
            await _lab.RestartStaticPodAsync("cp-2", "etcd");
            await _lab.UntilProberFailsAsync(edges[0], planted);
            var (exit, found) = await VerifyUntilAsync(edges.ToDictionary(e => e, _ => "broken"));
            Assert.Equal(1, exit);
            Assert.All(edges, e => Assert.Contains("a certificate from an unknown CA (CN=etcd-ca) (--peer-cert-file /etc/kubernetes/pki/etcd/peer.crt on cp-2)", found[e].Reasons));
            Assert.Contains("etcd on cp-2 serves a certificate from an unknown CA", found["cp-1/etcd->cp-2/etcd"].Reasons);
            Assert.Contains("Etcd on cp-1 trusts only CA etcd-ca", found["cp-2/etcd->cp-1/etcd"].Reasons);
            await AssertProberFailsExactlyAsync(edges);
        }
        finally
        {
            _lab.Write("cp-2", peerCert, original);
            await _lab.RestartStaticPodAsync("cp-2", "etcd");
        }
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task A_file_fixed_on_disk_but_not_reloaded_is_at_risk_with_the_restart_that_fixes_it_and_broken_when_what_was_loaded_is_known()
    {
        const string edge = "cp-3/kube-scheduler->cp-3/kube-apiserver";
        var original = _lab.Read("cp-3", Paths.SchedulerConf);
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        _lab.Write("cp-3", Paths.SchedulerConf, _lab.KubeconfigTrusting("cp-3", Paths.SchedulerConf, foreign.CertificatePem()));
        var planted = DateTimeOffset.UtcNow;
        try
        {
            await _lab.RestartStaticPodAsync("cp-3", "kube-scheduler");
            await _lab.UntilProberFailsAsync(edge, planted);
            var (_, loadedForeign) = await VerifyUntilAsync(new() { [edge] = "broken" });
            Assert.Contains($"Scheduler on cp-3 trusts only CA kubernetes [{Short(foreign)}] (certificate-authority-data of /etc/kubernetes/scheduler.conf on cp-3)", loadedForeign[edge].Reasons);

            // Fixed on disk, not restarted: the scheduler still uses the foreign CA it loaded, and the prober still fails.
            await Task.Delay(1100); // modification times have a second's resolution in mirror pod start times
            _lab.Write("cp-3", Paths.SchedulerConf, original);
            var (exit, fixedOnDisk) = await VerifyUntilAsync(new() { [edge] = "atRisk" });
            Assert.Equal(4, exit);
            Assert.Contains("scheduler on cp-3 started at", fixedOnDisk[edge].Reasons, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("before /etc/kubernetes/scheduler.conf changed", fixedOnDisk[edge].Reasons);
            Assert.Contains("restart it", fixedOnDisk[edge].Reasons);
            Assert.Contains("The files on disk are right", fixedOnDisk[edge].Reasons);
            await AssertProberFailsExactlyAsync(edge);

            // Told what the scheduler loaded at its start (the lab keeps it), the model says broken now, fixed by a restart.
            var snapshot = await ReadSnapshotAsync();
            var loadedFile = LoadedFiles.Find(fixture.Lab, "cp-3", "kube-scheduler", Paths.SchedulerConf)!;
            snapshot = snapshot with { Loaded = [new LoadedContent("cp-3", ComponentReloads.Scheduler, Paths.SchedulerConf, File.ReadAllBytes(loadedFile))] };
            var known = new TrustModel().Evaluate(snapshot).Edge(edge)!;
            Assert.Equal(EdgeState.Broken, known.State);
            Assert.Contains(known.Reasons, r => r.Contains($"trusts only CA kubernetes [{Short(foreign)}]", StringComparison.Ordinal));
            Assert.Contains(known.Reasons, r => r.StartsWith("The files on disk are right: restarting", StringComparison.Ordinal));
        }
        finally
        {
            _lab.Write("cp-3", Paths.SchedulerConf, original);
            await _lab.RestartStaticPodAsync("cp-3", "kube-scheduler");
        }
        await VerifyUntilAsync([]);
        await _lab.UntilProberCleanAsync();
    }

    /// <summary>
    /// `lab kubelet-started`, the lab's `systemctl show kubelet --property=ActiveState --property=ActiveEnterTimestamp`,
    /// parsed as systemctl's output is; the lab inventory's kubeletStartedAt command prints the same.
    /// </summary>
    private async Task<SystemdUnitActivity.Parsed> KubeletActivityAsync(string node)
    {
        var exe = LabExecutable.Command();
        var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "lab", "kubelet-started", "--dir", fixture.Lab.Dir, "--node", node]);
        run.EnsureSuccess();
        var command = KubeletStartedAt.Command(fixture.Lab, node);
        var inventory = await ProcessRun.RunAsync(command[0], [.. command.Skip(1)]);
        inventory.EnsureSuccess();
        Assert.Equal(run.Stdout.Trim(), inventory.Stdout.Trim());
        var parsed = SystemdUnitActivity.Parse(run.Stdout);
        Assert.Null(parsed.Error);
        return parsed;
    }

    private async Task<DateTimeOffset?> KubeletStartedAsync(string node)
    {
        var activity = await KubeletActivityAsync(node);
        Assert.Equal("active", activity.ActiveState);
        return activity.Entered.At;
    }

    [Fact]
    public async Task A_stopped_kubelet_is_reported_inactive_and_its_edges_broken_until_it_starts_again()
    {
        var worker = fixture.Lab.Node("worker-2");
        var apiServerEdges = fixture.Lab.ControlPlanes.Select(cp => $"{cp.Name}/kube-apiserver->worker-2/kubelet").ToList();
        await _lab.UntilProberCleanAsync();
        var started = await KubeletStartedAsync("worker-2");
        Assert.NotNull(started);
        try
        {
            // The lab's `systemctl stop kubelet`: the node agent goes, its static pods and containers stay.
            await NodeAgentProcess.Find(fixture.Lab, worker, TimeProvider.System)!.StopAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
            var stopped = await KubeletActivityAsync("worker-2");
            Assert.Equal("inactive", stopped.ActiveState);
            Assert.False(stopped.Running);
            Assert.Equal(started, stopped.Entered.At); // systemd keeps the last start after the stop

            var (exit, edges) = await VerifyUntilAsync(apiServerEdges.Append("worker-2/kubelet->endpoint").ToDictionary(e => e, _ => "broken"));
            Assert.Equal(1, exit);
            Assert.All(edges.Values, e => Assert.Contains("Kubelet on node worker-2 is not running (systemd reports its unit inactive), so this connection is down", e.Reasons));
        }
        finally
        {
            await _lab.RestartKubeletAsync("worker-2");
        }
        Assert.True(await KubeletStartedAsync("worker-2") > started);
        await VerifyUntilAsync([]);
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task A_worker_kubelet_conf_rewritten_without_restarting_its_kubelet_is_at_risk_until_lab_restart_kubelet()
    {
        const string edge = "worker-1/kubelet->endpoint";
        var original = _lab.Read("worker-1", Paths.KubeletConf);
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        var clusterCa = Encoding.ASCII.GetString(Kubeconfig.Parse(original, "kubelet.conf").CurrentCluster!.CertificateAuthorityData!);
        await _lab.UntilProberCleanAsync();
        try
        {
            // The kubelet reports its state and start as systemd does; the lab's inventory asks with the same output as `lab kubelet-started`.
            var started = await KubeletStartedAsync("worker-1");
            Assert.NotNull(started);
            await Task.Delay(1100); // start times have a second's resolution
            // Right on disk (both CAs), but the running kubelet loaded the previous file: at risk, and the prober stays clean.
            _lab.Write("worker-1", Paths.KubeletConf, _lab.KubeconfigTrusting("worker-1", Paths.KubeletConf, clusterCa.TrimEnd() + "\n" + foreign.CertificatePem()));
            var (exit, edges) = await VerifyUntilAsync(new() { [edge] = "atRisk" });
            Assert.Equal(4, exit);
            Assert.Contains($"Kubelet on node worker-1 started at {started!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, before /etc/kubernetes/kubelet.conf changed at", edges[edge].Reasons);
            Assert.Contains("restart it to load the file on disk", edges[edge].Reasons);
            Assert.Contains("The files on disk are right: after that restart this edge works.", edges[edge].Reasons);
            await AssertProberFailsExactlyAsync();

            await _lab.RestartKubeletAsync("worker-1");
            var (healthyExit, _) = await VerifyUntilAsync([]);
            Assert.Equal(0, healthyExit);
            Assert.True(await KubeletStartedAsync("worker-1") > started);
        }
        finally
        {
            _lab.Write("worker-1", Paths.KubeletConf, original);
            await _lab.RestartKubeletAsync("worker-1");
        }
        await VerifyUntilAsync([]);
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task A_workload_pod_started_before_kube_root_ca_changed_is_named_with_both_times()
    {
        const string edge = "lab-1/trust-probe->endpoint";
        var lab = fixture.Lab;
        var kcmManifest = $"{Paths.ManifestsDir}/kube-controller-manager.yaml";
        var aside = "/etc/kubernetes/kube-controller-manager.yaml.stopped";
        var original = (await _lab.KubectlAsync("get", "configmap", "kube-root-ca.crt", "-n", "lab-1", "-o", "jsonpath={.data.ca\\.crt}")).EnsureSuccess().Stdout;
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        var podFile = Path.Combine(lab.Dir, "trust-probe.yaml");
        // The controller-managers publish kube-root-ca.crt and would undo the plant: stop them while it stands.
        foreach (var cp in lab.ControlPlanes) File.Move(_lab.NodeFile(cp.Name, kcmManifest), _lab.NodeFile(cp.Name, aside));
        try
        {
            await ProbeWatch.UntilAsync("every controller-manager to stop", () => lab.ControlPlanes.All(cp => !File.Exists(Path.Combine(lab.RunDir, cp.Name, "pods", "kube-controller-manager.pid"))));
            // The pods already running in lab-1 loaded the right CA: the model cannot see that, only that kube-root-ca.crt
            // changed after their start, so they are at risk (not broken), and the prober finds them working.
            var running = (await _lab.KubectlAsync("get", "pods", "-n", "lab-1", "-o", "jsonpath={.items[*].metadata.name}")).EnsureSuccess().Stdout
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => $"lab-1/{p}->endpoint").ToList();
            Assert.NotEmpty(running);
            Dictionary<string, string> Expect(string state) => running.Append(edge).ToDictionary(e => e, e => e == edge ? state : "atRisk");
            await SetRootCaAsync(foreign.CertificatePem());
            File.WriteAllText(podFile, """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: trust-probe
                  namespace: lab-1
                spec:
                  nodeName: worker-2
                  serviceAccountName: app
                  containers:
                  - name: app
                    image: registry.k8s.io/pause:3.10
                """);
            var created = DateTimeOffset.UtcNow;
            (await _lab.KubectlAsync("apply", "-f", podFile)).EnsureSuccess();
            await _lab.UntilProberFailsAsync(edge, created);
            var (_, atStart) = await VerifyUntilAsync(Expect("broken"));
            Assert.Contains($"trusts only CA kubernetes [{Short(foreign)}] (ConfigMap lab-1/kube-root-ca.crt data[ca.crt])", atStart[edge].Reasons);

            await Task.Delay(1100); // start and change times have a second's resolution
            await SetRootCaAsync(original);
            var (exit, changed) = await VerifyUntilAsync(Expect("atRisk"));
            Assert.Equal(4, exit);
            Assert.All(running, e => Assert.Contains("before ConfigMap lab-1/kube-root-ca.crt changed at", changed[e].Reasons));
            Assert.Contains("pod lab-1/trust-probe started at", changed[edge].Reasons, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("before ConfigMap lab-1/kube-root-ca.crt changed at", changed[edge].Reasons);
            Assert.Contains("restart the pod", changed[edge].Reasons);
            await AssertProberFailsExactlyAsync(edge);
        }
        finally
        {
            await _lab.KubectlAsync("delete", "pod", "trust-probe", "-n", "lab-1", "--wait=false");
            await SetRootCaAsync(original);
            foreach (var cp in lab.ControlPlanes)
                if (File.Exists(_lab.NodeFile(cp.Name, aside))) File.Move(_lab.NodeFile(cp.Name, aside), _lab.NodeFile(cp.Name, kcmManifest));
        }
        await ProbeWatch.UntilAsync("every controller-manager to run again", () => lab.ControlPlanes.All(cp => File.Exists(Path.Combine(lab.RunDir, cp.Name, "pods", "kube-controller-manager.pid"))));
        await ProbeWatch.UntilAsync("the probe pod to be gone", () => !new ProbeWatch(lab).Since(DateTimeOffset.UtcNow.AddSeconds(-3)).Any(r => r.Edge == edge));
        await _lab.UntilProberCleanAsync();
    }

    private async Task SetRootCaAsync(string pem)
    {
        var patch = Path.Combine(fixture.Lab.Dir, "root-ca-patch.json");
        File.WriteAllText(patch, JsonSerializer.Serialize(new { data = new Dictionary<string, string> { ["ca.crt"] = pem } }));
        (await _lab.KubectlAsync("patch", "configmap", "kube-root-ca.crt", "-n", "lab-1", "--type", "merge", "--patch-file", patch)).EnsureSuccess();
    }

    [Fact]
    public async Task An_expired_leaf_breaks_exactly_the_edge_that_presents_it()
    {
        // etcd re-reads --cert-file on every new handshake: an expired serving certificate is served at once.
        const string edge = "cp-1/kube-apiserver->cp-1/etcd";
        var certPath = Paths.Pki("etcd/server.crt");
        var original = _lab.Read("cp-1", certPath);
        var ca = _lab.NodeCa("cp-1", Paths.Pki("etcd/ca.crt"), Paths.Pki("etcd/ca.key"));
        var past = new CertificateIssuer(new FixedTime(DateTimeOffset.UtcNow.AddDays(-3)));
        _lab.Write("cp-1", certPath, _lab.Reissued("cp-1", certPath, Paths.Pki("etcd/server.key"), ca, past, TimeSpan.FromDays(1)));
        var planted = DateTimeOffset.UtcNow;
        try
        {
            await _lab.UntilProberFailsAsync(edge, planted);
            var (exit, edges) = await VerifyUntilAsync(new() { [edge] = "broken" });
            Assert.Equal(1, exit);
            Assert.Matches(@"Etcd on cp-1 has a certificate \(CN=[^)]+\) that expired at", edges[edge].Reasons);
            Assert.Contains("(--cert-file /etc/kubernetes/pki/etcd/server.crt on cp-1), so API server on cp-1 rejects it", edges[edge].Reasons);
            await AssertProberFailsExactlyAsync(edge);
        }
        finally
        {
            _lab.Write("cp-1", certPath, original);
        }
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task A_what_if_agrees_with_the_prober_edge_for_edge_once_applied()
    {
        var foreign = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        var originalConf = _lab.Read("worker-2", Paths.KubeletConf);
        var originalCa = _lab.Read("worker-2", Paths.CaCert);
        var conf = _lab.KubeconfigTrusting("worker-2", Paths.KubeletConf, foreign.CertificatePem());
        var ca = Encoding.ASCII.GetBytes(foreign.CertificatePem());
        await _lab.UntilProberCleanAsync();
        var snapshot = await ReadSnapshotAsync();
        var whatIf = new TrustModel().Evaluate(snapshot,
        [
            new ProposedChange.FileWrite("worker-2", Paths.KubeletConf, conf),
            new ProposedChange.FileWrite("worker-2", Paths.CaCert, ca),
            new ProposedChange.Restart("worker-2", ComponentReloads.Kubelet),
        ]);
        var predicted = whatIf.Worsened.Where(e => e.State == EdgeState.Broken).Select(e => e.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("worker-2/kubelet->endpoint", predicted);
        Assert.Contains("cp-1/kube-apiserver->worker-2/kubelet", predicted);

        _lab.Write("worker-2", Paths.KubeletConf, conf);
        _lab.Write("worker-2", Paths.CaCert, ca);
        var applied = DateTimeOffset.UtcNow;
        try
        {
            await _lab.RestartKubeletAsync("worker-2", mayStayNotReady: true);
            await _lab.UntilProberFailsAsync("worker-2/kubelet->endpoint", applied);
            await _lab.UntilProberFailsAsync("cp-3/kube-apiserver->worker-2/kubelet", applied);
            var failing = await _lab.ProberTrustFailuresAsync();
            var seen = failing.Keys.Select(PlantedLab.ModelId).Distinct().Order(StringComparer.Ordinal).ToList();
            Assert.True(predicted.SequenceEqual(seen), $"what-if predicted {string.Join(", ", predicted)}; the prober saw {string.Join(", ", seen)}");
        }
        finally
        {
            _lab.Write("worker-2", Paths.KubeletConf, originalConf);
            _lab.Write("worker-2", Paths.CaCert, originalCa);
            await _lab.RestartKubeletAsync("worker-2");
        }
        await _lab.UntilProberCleanAsync();
    }

    [Fact]
    public async Task Scan_finds_a_ca_planted_in_an_unrelated_config_map_and_in_a_webhook_ca_bundle()
    {
        var inConfigMap = PlantedLab.ForeignCa(KubeadmCatalog.ClusterCa);
        var inWebhook = PlantedLab.ForeignCa(KubeadmCatalog.FrontProxyCa);
        var dir = fixture.Lab.Dir;
        var bundle = Path.Combine(dir, "bundle.pem");
        File.WriteAllText(bundle, inConfigMap.CertificatePem());
        var webhook = Path.Combine(dir, "webhook.yaml");
        File.WriteAllText(webhook, $"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata:
              name: planted-webhook
            webhooks:
            - name: planted.lab.example
              admissionReviewVersions: ["v1"]
              sideEffects: None
              failurePolicy: Ignore
              clientConfig:
                url: https://127.0.0.1:1/validate
                caBundle: {Convert.ToBase64String(Encoding.ASCII.GetBytes(inWebhook.CertificatePem()))}
              rules:
              - apiGroups: ["example.com"]
                apiVersions: ["v1"]
                operations: ["CREATE"]
                resources: ["widgets"]
            """);
        (await _lab.KubectlAsync("create", "configmap", "some-bundle", "-n", "lab-2", $"--from-file=bundle.pem={bundle}")).EnsureSuccess();
        (await _lab.KubectlAsync("apply", "-f", webhook)).EnsureSuccess();
        try
        {
            var exe = LabExecutable.Command();
            var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "scan", "--inventory", _lab.Inventory, "-o", "json"]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            var scan = JsonDocument.Parse(run.Stdout).RootElement;
            string Places(CertificateAuthority ca)
            {
                var sha = CertificateFacts.Sha256Fingerprint(ca.Certificate);
                var entry = scan.GetProperty("authorities").EnumerateArray().FirstOrDefault(a => a.GetProperty("ca").GetProperty("sha256").GetString() == sha);
                Assert.True(entry.ValueKind == JsonValueKind.Object, $"scan does not list the planted CA {sha}");
                return string.Join("\n", entry.GetProperty("places").EnumerateArray().Select(p => $"{p.GetProperty("kind").GetString()} {p.GetProperty("location").GetString()}"));
            }
            Assert.Equal("object ConfigMap lab-2/some-bundle data[bundle.pem]", Places(inConfigMap));
            Assert.Equal("object ValidatingWebhookConfiguration planted-webhook webhooks[0] (planted.lab.example) clientConfig.caBundle", Places(inWebhook));
        }
        finally
        {
            await _lab.KubectlAsync("delete", "configmap", "some-bundle", "-n", "lab-2");
            await _lab.KubectlAsync("delete", "validatingwebhookconfiguration", "planted-webhook");
        }
    }

    private async Task<ClusterSnapshot> ReadSnapshotAsync()
    {
        var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(Inventory.Load(_lab.Inventory), null, null, null, CancellationToken.None);
        Assert.Empty(snapshot.Problems);
        return snapshot;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
