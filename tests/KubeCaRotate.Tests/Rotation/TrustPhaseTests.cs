using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>The cluster CA's trust phase run on node directories: end state, order, backups, idempotence, resumability.</summary>
public class TrustPhaseTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static readonly RotationPaths Paths = RotationPaths.Default;
    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;

    private static RotationRequest Request(bool dryRun = false) =>
        new() { Cas = [new CaRotationRequest(CaKind.Cluster, new NewCaSource.Generate())], DryRun = dryRun, KubeletParallelism = 2, Until = RotationPhase.Trusted };

    private static string Fingerprint(PemBundle b, int i) => CertificateFacts.Sha256Fingerprint(b.Certificates[i]);

    [Fact]
    public async Task Every_trust_store_ends_with_old_and_new_the_signer_reads_one_certificate_and_every_restart_is_waited_for()
    {
        using var cluster = fixture.Template.Copy();
        var oldCa = cluster.Bundle("cp-1", Kubeadm.CaCert).First!;
        var observer = new RecordingRestartObserver();
        var events = new EventLog();
        var outcome = await CaRotation.StartAsync(Request(), cluster.Cluster(observer), events);

        Assert.Equal(RotationPhase.Trusted, outcome.Phase);
        var newSha = outcome.Cas.Single().NewSha256;
        Assert.Equal(CertificateFacts.Sha256Fingerprint(oldCa), outcome.Cas.Single().OldSha256);
        foreach (var cp in NodeDirectoryCluster.ControlPlaneNames)
        {
            var bundle = cluster.Bundle(cp, Kubeadm.CaCert);
            Assert.Equal([outcome.Cas.Single().OldSha256, newSha], [Fingerprint(bundle, 0), Fingerprint(bundle, 1)]);
            // kubeadm's rule: the certificate of ca.key leads.
            var key = PrivateKey.FromPem(cluster.Read(cp, Kubeadm.CaKey), "ca.key");
            Assert.True(key.Matches(bundle.First!));
            // the signer and KCM's client CA read a single-certificate copy of the old CA.
            var kcm = StaticPodManifest.Parse(cluster.Read(cp, Kubeadm.ControllerManagerManifest));
            Assert.Equal(Paths.SignerCopy(CaKind.Cluster), kcm.GetFlag("cluster-signing-cert-file"));
            Assert.Equal(Paths.SignerCopy(CaKind.Cluster), kcm.GetFlag("client-ca-file"));
            Assert.Equal(Kubeadm.CaCert, kcm.GetFlag("root-ca-file"));
            var signer = cluster.Bundle(cp, Paths.SignerCopy(CaKind.Cluster));
            Assert.Equal([CertificateFacts.Sha256Fingerprint(oldCa)], signer.Certificates.Select(CertificateFacts.Sha256Fingerprint));
            foreach (var conf in new[] { Kubeadm.AdminConf, Kubeadm.ControllerManagerConf, Kubeadm.SchedulerConf, Kubeadm.KubeletConf })
            {
                if (!File.Exists(cluster.NodeRoot(cp) + conf)) continue;
                var cas = TrustStoreEdits.KubeconfigCas(File.ReadAllBytes(cluster.NodeRoot(cp) + conf), conf).Values.Single();
                Assert.Equal(2, cas.Count);
                Assert.Equal(newSha, Fingerprint(cas, 1));
            }
            // staged material and journal: 0600 for the key and the journal.
            Assert.Equal(FileModes.Private, File.GetUnixFileMode(cluster.NodeRoot(cp) + Paths.StagedKey(CaKind.Cluster)));
            Assert.Equal(FileModes.Private, File.GetUnixFileMode(cluster.NodeRoot(cp) + Paths.Journal));
        }
        // The worker: its clientCAFile (ca.crt) and kubelet.conf trust both.
        Assert.Equal(2, cluster.Bundle("worker-1", Kubeadm.CaCert).Count);
        Assert.Equal(2, TrustStoreEdits.KubeconfigCas(File.ReadAllBytes(cluster.NodeRoot("worker-1") + Kubeadm.KubeletConf), "kubelet.conf").Values.Single().Count);

        // openssl agrees: a leaf of the new CA verifies against every node's ca.crt, as does one of the old.
        var issuer = CertificateIssuer.System;
        var staged = (await StagedCa.ReadStagedAsync(cluster.Node("cp-1"), CaKind.Cluster, Paths, default))!.Value.New;
        var leafKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var leaf = issuer.Sign(CertificateTemplate.ForLeaf("probe", [], [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None), leafKey, staged, TimeSpan.FromDays(1));
        var leafFile = Path.Combine(cluster.Root, "leaf.crt");
        File.WriteAllText(leafFile, leaf.ExportCertificatePem());
        foreach (var node in cluster.NodeNames)
            ExternalTool.Ok("openssl", "verify", "-CAfile", cluster.NodeRoot(node) + Kubeadm.CaCert, leafFile);
        ExternalTool.Ok("openssl", "verify", "-CAfile", cluster.NodeRoot("cp-1") + Kubeadm.CaCert, cluster.NodeRoot("cp-1") + Kubeadm.Pki("apiserver.crt"));

        // Restarts: KCM after its flags, KCM and scheduler again one control plane at a time, every kubelet; each after its change.
        Assert.Equal(
            ["cp-1/kube-controller-manager", "cp-2/kube-controller-manager", "cp-1/kube-controller-manager", "cp-1/kube-scheduler", "cp-2/kube-controller-manager", "cp-2/kube-scheduler"],
            observer.Waits.Where(w => w.Component != "kubelet").Select(w => $"{w.Node}/{w.Component}"));
        Assert.Equal(cluster.NodeNames.Order(), observer.Waits.Where(w => w.Component == "kubelet").Select(w => w.Node).Order());

        // Order of the procedure: every signer step finishes before any ca.crt becomes a bundle.
        var finished = events.Events.OfType<RotationEvent.StepFinished>().Select(e => e.Step).ToList();
        Assert.True(finished.FindLastIndex(s => s.Batch == PhaseSteps.SignerBatch) < finished.FindIndex(s => s.Batch == PhaseSteps.BundleBatch));
        Assert.All(outcome.Steps, s => Assert.NotEmpty(s.ProcedureRows));
    }

    [Fact]
    public async Task The_lock_and_each_reading_for_the_trust_model_are_told_before_they_begin()
    {
        using var cluster = fixture.Template.Copy();
        var events = new EventLog();
        var readings = 0;
        var target = cluster.Cluster(new RecordingRestartObserver()) with
        {
            TrustGateFactory = _ =>
            {
                // The stage is told before the (possibly long) reading starts, not after.
                Assert.IsType<RotationEvent.StageStarted>(events.Events[^1]);
                readings++;
                return Task.FromResult<ITrustGate>(new KubeadmLayoutGate(Paths));
            },
        };
        await CaRotation.StartAsync(Request() with { Until = RotationPhase.Switched }, target, events);

        var told = events.Events.Select(e => e switch
        {
            RotationEvent.StageStarted g => g.Stage.ToString(),
            RotationEvent.PhaseChanged p => "phase " + p.Phase,
            RotationEvent.StepStarted => "step",
            _ => null,
        }).Where(e => e is not null).Distinct().ToList();
        Assert.Equal(2, readings);
        Assert.Equal(
            ["TakingLock", "phase Trusting", "ReadingCluster", "step", "phase Trusted", "phase Switching", "phase Switched"],
            told);
        // The trust model is read again before the switch phase's first step.
        var switching = events.Events.FindIndex(e => e is RotationEvent.PhaseChanged { Phase: RotationPhase.Switching });
        Assert.IsType<RotationEvent.StageStarted>(events.Events[switching + 1]);
        Assert.Equal(RunStage.ReadingCluster, ((RotationEvent.StageStarted)events.Events[switching + 1]).Stage);
        Assert.IsType<RotationEvent.BatchStarted>(events.Events[switching + 2]);
    }

    [Fact]
    public async Task A_second_run_changes_nothing_and_the_backups_restore_every_file_byte_for_byte()
    {
        using var cluster = fixture.Template.Copy();
        var pristine = cluster.Hashes();
        var first = await CaRotation.StartAsync(Request(), cluster.Cluster(new RecordingRestartObserver()));
        var after = cluster.Hashes(skipState: true);
        Assert.NotEqual(pristine, after);

        var observer = new RecordingRestartObserver();
        var second = await CaRotation.StartAsync(Request(), cluster.Cluster(observer));
        Assert.Equal(first.RotationId, second.RotationId);
        Assert.Equal(first.Cas, second.Cas);
        Assert.All(second.Steps, s => Assert.Equal(StepOutcome.Journaled, s.Outcome));
        Assert.Empty(observer.Waits);
        Assert.Equal(after, cluster.Hashes(skipState: true));

        // Rollback of the files: every backed-up path back to its original bytes and mode (or gone when it was new).
        foreach (var node in cluster.NodeNames)
        {
            var backup = new FileBackup(cluster.Node(node), Paths, first.RotationId, TimeProvider.System);
            var paths = await backup.BackedUpPathsAsync();
            Assert.NotEmpty(paths);
            Assert.DoesNotContain(paths, p => p.Contains(RotationPaths.StateDirName, StringComparison.Ordinal) && p != Paths.SignerCopy(CaKind.Cluster));
            foreach (var path in paths) Assert.True(await backup.RestoreAsync(path));
        }
        Assert.Equal(pristine, cluster.Hashes(skipState: true));
    }

    [Fact]
    public async Task Plan_runs_every_step_over_dry_run_nodes_and_changes_nothing()
    {
        using var cluster = fixture.Template.Copy();
        var before = cluster.Hashes();
        var plan = await CaRotation.PlanAsync(Request(), cluster.Cluster(restarts: null));
        Assert.Equal(before, cluster.Hashes());
        Assert.True(plan.DryRun);
        Assert.Contains(plan.Steps, s => s.Id == "trust/ca/bundle/cp-2" && s.Outcome == StepOutcome.Planned && s.ProcedureRows.SequenceEqual(["2", "7"]));
        Assert.Contains(plan.Steps, s => s.Id == "trust/ca/restart-kubelet/worker-1" && s.Changes.Single().Contains("run true"));
        // Steps whose file already trusts both after earlier planned steps (a control plane's clientCAFile is ca.crt) are shown done.
        Assert.Contains(plan.Steps, s => s.Id == "trust/ca/kubelet-client-ca/cp-1" && s.Outcome == StepOutcome.AlreadyDone);
        Assert.Contains(plan.PlannedNodeChanges, c => c.StartsWith("cp-1: replace /etc/kubernetes/pki/ca.crt", StringComparison.Ordinal));
        Assert.DoesNotContain(plan.PlannedNodeChanges, c => c.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Putting_ca_crt_in_a_bundle_before_moving_the_signer_is_refused_and_changes_nothing()
    {
        using var cluster = fixture.Template.Copy();
        var nodes = cluster.Nodes();
        var controlPlanes = nodes.ControlPlanes.Select(n => n.Access).ToList();
        var staged = await StagedCa.PrepareAsync(new CaRotationRequest(CaKind.Cluster, new NewCaSource.Generate()), RotationMode.Rotate, controlPlanes, Paths, null, CertificateIssuer.System);
        var steps = new PhaseSteps([staged], nodes, Paths, RotationMode.Rotate, CertificateIssuer.System).Trust();
        var misordered = steps.Where(s => s.Batch == PhaseSteps.BundleBatch).ToList();
        var journal = new RotationJournal { RotationId = "test", Cas = [staged.ToJournal()] };
        var engine = new RotationEngine(new StepContext(nodes, Paths, "test", false, TimeProvider.System, new RecordingRestartObserver()),
            new JournalStore(controlPlanes, Paths), new KubeadmLayoutGate(Paths));
        var before = cluster.Hashes();
        var e = await Assert.ThrowsAsync<StepRefusedException>(() => engine.RunAsync(misordered, journal, default));
        Assert.Equal("trust/ca/bundle/cp-1", e.StepId);
        Assert.Contains("exactly one", e.Message);
        Assert.Equal(before, cluster.Hashes());
    }

    [Fact]
    public async Task A_run_killed_before_any_change_continues_with_the_same_new_ca_and_the_first_originals()
    {
        using var reference = fixture.Template.Copy();
        var pristine = reference.Hashes();
        var counter = new KillSwitch(int.MaxValue);
        await CaRotation.StartAsync(Request(), reference.Cluster(new RecordingRestartObserver(), counter.Wrap));
        var total = counter.Changes;
        Assert.True(total > 30, $"only {total} changes");

        for (var killAt = 1; killAt <= total; killAt++)
        {
            using var cluster = fixture.Template.Copy();
            var kill = new KillSwitch(killAt);
            await Assert.ThrowsAsync<SimulatedKill>(() => CaRotation.StartAsync(Request(), cluster.Cluster(new RecordingRestartObserver(), kill.Wrap)));
            var resumed = await CaRotation.StartAsync(Request(), cluster.Cluster(new RecordingRestartObserver()));
            Assert.Equal(RotationPhase.Trusted, resumed.Phase);

            // The new CA is the first one ever written to disk: no second CA was made.
            var firstStaged = kill.FirstWrites.GetValueOrDefault("cp-1:" + Paths.StagedCert(CaKind.Cluster));
            var newSha = resumed.Cas.Single().NewSha256;
            if (firstStaged is not null)
                Assert.True(CertificateFacts.Sha256Fingerprint(PemBundle.Parse(Encoding.ASCII.GetString(firstStaged), "staged").First!) == newSha, $"kill at {killAt}: a second CA was made");
            foreach (var node in cluster.NodeNames)
            {
                var bundle = cluster.Bundle(node, Kubeadm.CaCert);
                Assert.True(bundle.Count == 2 && Fingerprint(bundle, 1) == newSha, $"kill at {killAt}: {node} ca.crt");
            }

            // The backups hold the first originals: restoring them gives back the pristine tree.
            foreach (var node in cluster.NodeNames)
            {
                var backup = new FileBackup(cluster.Node(node), Paths, resumed.RotationId, TimeProvider.System);
                foreach (var path in await backup.BackedUpPathsAsync()) await backup.RestoreAsync(path);
            }
            Assert.True(pristine.SequenceEqual(cluster.Hashes(skipState: true)), $"kill at {killAt}: restore is not byte for byte");
        }
    }
}
