using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The library's entry point for rotating CAs; the CLI only fills a <see cref="RotationRequest"/> and calls it, and the
/// lab tests call the same methods.
///
/// <para><see cref="StartAsync"/>, the trust phase (DESIGN.md "Phases"), in this order:</para>
/// <list type="number">
/// <item>Read the journal from every control-plane node; the newest consistent copy wins; a copy that differs is reported.</item>
/// <item>Per CA, find the new CA: the staged pair the journal names; else, before any journal exists, a complete pair
/// some control-plane node already stages (a run killed before its journal); else make one (generate, bring your own,
/// or renew), validated by <see cref="NewCaCheck"/>, optionally cross-signed by the old CA. A second CA is never made
/// for a rotation: that is what makes a killed run resumable.</item>
/// <item>For a new rotation: stage the pair on the first control-plane node (key first, certificate last), then write
/// the journal (phase trusting, old and new fingerprints) on every control-plane node.</item>
/// <item>Run the phase's steps (<see cref="PhaseSteps"/>) with the <see cref="RotationEngine"/>: journaled or
/// already-done steps are skipped; the trust gate (the caller's, plus <see cref="KubeadmLayoutGate"/>) is asked before
/// each step; files are backed up before their first change (<see cref="FileBackup"/>); each step is verified and
/// journaled.</item>
/// <item>Write phase trusted.</item>
/// </list>
/// <para>Design decisions: the journal and staged CA live beside the CA material on every control-plane node, never in
/// the API (no private key ever goes to the API); steps are data whose changes are computed from the current state by
/// pure, idempotent edits (<see cref="TrustStoreEdits"/>), so "done" is "the edit changes nothing" and re-running a
/// step changes nothing; a dry run is the same flow over <see cref="DryRunNode"/>s, so `plan` runs every read-only
/// check and shows exactly what a run would write; restarts are steps whose Verify waits (skipped in a dry run).</para>
/// </summary>
public static class CaRotation
{
    /// <summary>The trust and switch phases (up to <see cref="RotationRequest.Until"/>), or their plan when <see cref="RotationRequest.DryRun"/> is set. See the type's comment.</summary>
    public static async Task<RotationOutcome> StartAsync(RotationRequest request, RotationCluster cluster, IProgress<RotationEvent>? progress = null, CancellationToken ct = default)
    {
        if (request.Cas.Count == 0) throw new RotationException("No CA was chosen; pass --ca with cluster, front-proxy and/or etcd.");
        var run = await Run.OpenAsync(cluster, request.DryRun, request.KubeletParallelism, request.WorkloadParallelism, progress, ct).ConfigureAwait(false);
        var journal = run.Open;
        var warnings = new List<string>(await ShutdownDelayCheck.WarningsAsync(run.ControlPlanes, cluster.Paths.Kubeadm, ct).ConfigureAwait(false));
        if (journal is not null)
        {
            if (journal.Mode != request.Mode)
                throw new RotationException($"Rotation {journal.RotationId} is under way in mode {journal.Mode.ToString().ToLowerInvariant()}; finish it with that mode or roll it back first.");
            if (journal.Phase is RotationPhase.Distrusting)
                throw new RotationException($"Rotation {journal.RotationId} is completing (phase distrusting); run complete again to finish it.");
            if (journal.Phase is RotationPhase.RollingBack)
                throw new RotationException($"Rotation {journal.RotationId} is being rolled back; run rollback again to finish it.");
            var asked = request.Cas.Select(c => c.Ca).Order().ToList();
            var journaled = journal.Cas.Select(c => c.Ca).Order().ToList();
            if (!asked.SequenceEqual(journaled))
                warnings.Add($"Rotation {journal.RotationId} rotates {string.Join(", ", journaled.Select(RotationPaths.Name))}; it continues with those (the CAs asked for now are ignored).");
        }

        var requests = journal is null ? request.Cas : journal.Cas.Select(j => request.Cas.FirstOrDefault(c => c.Ca == j.Ca) ?? new CaRotationRequest(j.Ca, new NewCaSource.Generate())).ToList();
        var staged = new List<StagedCa>();
        foreach (var ca in requests)
            staged.Add(await StagedCa.PrepareAsync(ca, request.Mode, run.ControlPlanes, cluster.Paths, journal?.For(ca.Ca), cluster.Issuer, ct, journal?.RotationId).ConfigureAwait(false));

        var rotationId = journal?.RotationId ?? RotationJournal.NewRotationId(run.Time.GetUtcNow());
        await using var held = await run.LockAsync(rotationId, ct).ConfigureAwait(false);
        if (journal is null)
        {
            foreach (var ca in staged)
                foreach (var (path, content, fileMode) in ca.Files(cluster.Paths))
                    await run.ControlPlanes[0].WriteFileAsync(path, content, fileMode, ct).ConfigureAwait(false);
            var now = run.Time.GetUtcNow();
            journal = new RotationJournal
            {
                RotationId = rotationId, Generation = 1, Phase = RotationPhase.Trusting, Mode = request.Mode,
                Cas = staged.Select(s => s.ToJournal()).ToList(), StartedAt = now, UpdatedAt = now,
            };
            await run.WritePhaseAsync(journal, ct).ConfigureAwait(false);
        }

        var leafValidity = requests.Min(r => r.LeafValidity);
        var phases = new PhaseSteps(staged, run.Nodes, cluster.Paths, request.Mode, cluster.Issuer, leafValidity);
        var steps = new List<Step>();
        if (journal.Phase is RotationPhase.Trusting)
        {
            var trust = phases.Trust();
            steps.AddRange(trust);
            journal = await run.StepsAsync(journal, trust, rotationId, ct).ConfigureAwait(false);
            journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.Trusted, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
        }
        if (journal.Phase is not RotationPhase.Trusting)
            await run.FollowOperatorAsync(RotationPhase.Trusted, staged, journal, ct).ConfigureAwait(false);
        if (request.Until != RotationPhase.Trusted && journal.Phase is RotationPhase.Trusted or RotationPhase.Switching)
        {
            journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.Switching, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
            var switching = phases.Switch();
            steps.AddRange(switching);
            journal = await run.StepsAsync(journal, switching, rotationId, ct).ConfigureAwait(false);
            journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.Switched, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
        }
        if (journal.Phase is RotationPhase.Switched)
            await run.FollowOperatorAsync(RotationPhase.Switched, staged, journal, ct).ConfigureAwait(false);
        return run.Outcome(journal, steps) with { Warnings = warnings };
    }

    /// <summary>`plan`: the steps `start` would run, in order, each with its procedure rows and the changes it would make; changes nothing.</summary>
    public static Task<RotationOutcome> PlanAsync(RotationRequest request, RotationCluster cluster, CancellationToken ct = default) =>
        StartAsync(request with { DryRun = true }, cluster, null, ct);

    /// <summary>
    /// `complete`: proves that nothing in use depends on the old CAs (<see cref="OldCaProof"/>: every leaf and kubeconfig
    /// client certificate on every node is issued by the new CA, every API server and etcd member serves a new-CA
    /// certificate), then runs the distrust phase (phase switched → distrusting → completed).
    /// </summary>
    public static async Task<RotationOutcome> CompleteAsync(FinishRequest request, RotationCluster cluster, IProgress<RotationEvent>? progress = null, CancellationToken ct = default)
    {
        var run = await Run.OpenAsync(cluster, request.DryRun, request.KubeletParallelism, request.WorkloadParallelism, progress, ct).ConfigureAwait(false);
        var journal = run.Open ?? throw new RotationException("No rotation is under way; start one with `kube-ca-rotate start`.");
        if (journal.Phase is not (RotationPhase.Switched or RotationPhase.Distrusting))
            throw new RotationException($"Rotation {journal.RotationId} is in phase {Name(journal.Phase)}; complete follows the switch: run `kube-ca-rotate start` to finish it first{(journal.Phase == RotationPhase.RollingBack ? ", or rollback to finish the rollback" : "")}.");
        var staged = await run.StagedAsync(journal, ct).ConfigureAwait(false);
        await using var held = await run.LockAsync(journal.RotationId, ct).ConfigureAwait(false);

        await run.FollowOperatorAsync(RotationPhase.Switched, staged, journal, ct).ConfigureAwait(false);
        run.Stage(RunStage.ProvingOldCaUnused);
        var verified = await OldCaProof.ProveAsync(staged, run.Nodes, cluster.Paths, run.Time.GetUtcNow(), cluster.ProveLiveEndpoints, ct).ConfigureAwait(false);
        journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.Distrusting, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
        var steps = new PhaseSteps(staged, run.Nodes, cluster.Paths, journal.Mode, cluster.Issuer).Distrust();
        journal = await run.StepsAsync(journal, steps, journal.RotationId, ct).ConfigureAwait(false);
        journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.Completed, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
        await run.FollowOperatorAsync(RotationPhase.Completed, staged, journal, ct).ConfigureAwait(false);

        var warnings = new List<string>();
        if (run.Reports.Any(r => r.Id == "distrust/kubeadm-certs" && r.Outcome is StepOutcome.Applied or StepOutcome.Planned && r.Changes.Count > 0))
            warnings.Add("The kube-system/kubeadm-certs Secret held the old CAs and was deleted; before joining another control-plane node run `kubeadm init phase upload-certs --upload-certs`.");
        var clusterCa = staged.FirstOrDefault(s => s.Ca == CaKind.Cluster);
        if (clusterCa is not null)
            warnings.Add("Join commands printed before this rotation pin the old CA; use the new --discovery-token-ca-cert-hash.");
        var admin = await run.ControlPlanes[0].ReadFileAsync(cluster.Paths.Kubeadm.AdminConf, ct).ConfigureAwait(false);
        var anchor = await run.ControlPlanes[0].ReadFileAsync(cluster.Paths.CaCert(CaKind.Cluster), ct).ConfigureAwait(false);
        var hashOf = clusterCa?.New.Certificate ?? (anchor is null ? null : PemBundle.Parse(System.Text.Encoding.ASCII.GetString(anchor), cluster.Paths.CaCert(CaKind.Cluster)).First);
        return run.Outcome(journal, steps) with
        {
            Warnings = warnings, Verified = verified, AdminKubeconfig = admin,
            DiscoveryTokenCaCertHash = hashOf is null ? null : CertificateFacts.PublicKeyPin(hashOf),
        };
    }

    /// <summary>
    /// `rollback`: from any phase before completed. The operator's kubeconfig goes back to its original bytes (after the
    /// switch back, when the servers present certificates of the original CA again and still trust both); one control
    /// plane at a time every backed-up file goes back to its exact bytes, manifests one by one (each restarted pod is
    /// waited for); then every node's files and a kubelet
    /// restart; then the objects; then the API servers' published trust and kube-root-ca.crt are waited for, and the
    /// staged copies of the new CAs are removed.
    /// </summary>
    public static async Task<RotationOutcome> RollbackAsync(FinishRequest request, RotationCluster cluster, IProgress<RotationEvent>? progress = null, CancellationToken ct = default)
    {
        var run = await Run.OpenAsync(cluster, request.DryRun, request.KubeletParallelism, request.WorkloadParallelism, progress, ct).ConfigureAwait(false);
        var journal = run.Open ?? throw new RotationException("No rotation is under way, so there is nothing to roll back.");
        if (journal.Phase is RotationPhase.Distrusting)
            throw new RotationException($"Rotation {journal.RotationId} is completing (phase distrusting): the old CA is being removed and cannot come back safely; run complete again to finish it.");
        var staged = await run.StagedAsync(journal, ct).ConfigureAwait(false);
        await using var held = await run.LockAsync(journal.RotationId, ct).ConfigureAwait(false);
        journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.RollingBack, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
        var steps = new List<Step>();
        var switchBegan = journal.FinishedSteps.Any(s => s.Id.StartsWith("switch/", StringComparison.Ordinal));
        if (switchBegan && journal.Mode == RotationMode.Rotate)
        {
            // Switch back first: the old pairs lead and sign again and every leaf is issued by the old CA, one control
            // plane at a time, while every trust store still holds both. Only then are the original bytes restored.
            var swapped = staged.Select(s => s with { Old = s.New, New = s.Old, CrossSigned = null }).ToList();
            steps.AddRange(new PhaseSteps(swapped, run.Nodes, cluster.Paths, journal.Mode, cluster.Issuer).Switch("rollback-switch", stage: false));
        }
        steps.AddRange(RollbackSteps.Build(staged, run.Nodes, cluster.Paths, journal.RotationId, cluster.OperatorKubeconfig is { } own ? new OperatorKubeconfig(own) : null));
        journal = await run.StepsAsync(journal, steps, journal.RotationId, ct).ConfigureAwait(false);
        journal = await run.WritePhaseAsync(journal.WithPhase(RotationPhase.RolledBack, run.Time.GetUtcNow()), ct).ConfigureAwait(false);
        return run.Outcome(journal, steps);
    }

    /// <summary>`status`: the phase, progress and next action from the journals on the control-plane nodes.</summary>
    public static async Task<RotationStatus> StatusAsync(RotationCluster cluster, CancellationToken ct = default)
    {
        var journals = new JournalStore(cluster.Nodes.ControlPlanes.Select(n => n.Access).ToList(), cluster.Paths);
        var reading = await journals.ReadAsync(ct).ConfigureAwait(false);
        var j = reading.Newest;
        if (j is null)
            return new RotationStatus(null, RotationPhase.Idle, RotationMode.Rotate, [], 0, null, null, "No rotation has run here; `kube-ca-rotate plan` shows what `start` would do.", reading.Copies);
        var next = j.Phase switch
        {
            RotationPhase.Trusting or RotationPhase.Switching => $"A run stopped in phase {Name(j.Phase)}; run `kube-ca-rotate start` to continue it, or `rollback`.",
            RotationPhase.Trusted => "Every trust store holds old + new; run `kube-ca-rotate start` to switch to the new CA, or `rollback`.",
            RotationPhase.Switched => "Everything is issued by the new CA; run `kube-ca-rotate complete` to remove the old CA, or `rollback`.",
            RotationPhase.Distrusting => "complete stopped half-way; run `kube-ca-rotate complete` again.",
            RotationPhase.RollingBack => "rollback stopped half-way; run `kube-ca-rotate rollback` again.",
            RotationPhase.Completed => "The rotation is complete; the old CA is kept in the backup on every control-plane node.",
            RotationPhase.RolledBack => "The rotation was rolled back; the cluster uses its original CAs.",
            _ => "Nothing to do.",
        };
        return new RotationStatus(j.RotationId, j.Phase, j.Mode, j.Cas, j.FinishedSteps.Count, j.StartedAt, j.UpdatedAt, next, reading.Copies);
    }

    private static string Name(RotationPhase phase) => System.Text.Json.JsonSerializer.Serialize(phase).Trim('"');

    internal static StepReport Report(Step s, StepOutcome outcome, IReadOnlyList<StepChange> changes) =>
        new(s.Id, s.Name, s.ProcedureRows, s.Node, s.Batch, outcome, changes.Select(c => c.Describe()).ToList()) { Disruption = s.Disruption };

    /// <summary>One command's run: the nodes (dry-run wrapped), the journals, the lock, the engine and the reports.</summary>
    private sealed class Run : IProgress<RotationEvent>
    {
        private readonly RotationCluster _cluster;
        private readonly IProgress<RotationEvent>? _progress;
        private readonly JournalStore _journals;
        private readonly int _kubeletParallelism;
        private readonly int _workloadParallelism;

        private Run(RotationCluster cluster, bool dryRun, int kubeletParallelism, int workloadParallelism, IProgress<RotationEvent>? progress, JournalReading reading, RotationNodes nodes, JournalStore journals)
        {
            _cluster = cluster;
            DryRun = dryRun;
            _kubeletParallelism = kubeletParallelism;
            _workloadParallelism = workloadParallelism;
            _progress = progress;
            Reading = reading;
            Nodes = nodes;
            _journals = journals;
        }

        public bool DryRun { get; }

        public RotationNodes Nodes { get; }

        public JournalReading Reading { get; }

        public TimeProvider Time => _cluster.Issuer.Time;

        public List<StepReport> Reports { get; } = [];

        public IReadOnlyList<Nodes.INodeAccess> ControlPlanes => Nodes.ControlPlanes.Select(n => n.Access).ToList();

        /// <summary>The rotation under way (not completed or rolled back), or null.</summary>
        public RotationJournal? Open => Reading.Newest is { Phase: not (RotationPhase.Completed or RotationPhase.RolledBack) } open ? open : null;

        public static async Task<Run> OpenAsync(RotationCluster cluster, bool dryRun, int kubeletParallelism, int workloadParallelism, IProgress<RotationEvent>? progress, CancellationToken ct)
        {
            var nodes = dryRun ? cluster.Nodes.ForDryRun(cluster.Issuer.Time) : cluster.Nodes;
            var journals = new JournalStore(nodes.ControlPlanes.Select(n => n.Access).ToList(), cluster.Paths);
            var reading = await journals.ReadAsync(ct).ConfigureAwait(false);
            return new Run(cluster, dryRun, kubeletParallelism, workloadParallelism, progress, reading, nodes, journals);
        }

        public async Task<IReadOnlyList<StagedCa>> StagedAsync(RotationJournal journal, CancellationToken ct)
        {
            var staged = new List<StagedCa>();
            foreach (var ca in journal.Cas)
                staged.Add(await StagedCa.PrepareAsync(new CaRotationRequest(ca.Ca, new NewCaSource.Generate()), journal.Mode, ControlPlanes, _cluster.Paths, ca, _cluster.Issuer, ct, journal.RotationId).ConfigureAwait(false));
            return staged;
        }

        /// <summary>The cluster-wide Lease for the run (none in a dry run or without the API).</summary>
        public async Task<IAsyncDisposable> LockAsync(string rotationId, CancellationToken ct)
        {
            if (DryRun || _cluster.Api is null) return new NoLock();
            Stage(RunStage.TakingLock);
            return await _cluster.Api.Lock.AcquireAsync(rotationId, ct).ConfigureAwait(false);
        }

        public void Stage(RunStage stage) => _progress?.Report(new RotationEvent.StageStarted(Time.GetUtcNow(), stage));

        public Task FollowOperatorAsync(RotationPhase reached, IReadOnlyList<StagedCa> staged, RotationJournal journal, CancellationToken ct) =>
            _cluster.OperatorKubeconfig is { } own
                ? new OperatorKubeconfig(own).FollowAsync(reached, staged, journal.Mode, _cluster.Issuer, journal.RotationId, DryRun, ct)
                : Task.CompletedTask;

        public async Task<RotationJournal> WritePhaseAsync(RotationJournal journal, CancellationToken ct)
        {
            await _journals.WriteAsync(journal, ct).ConfigureAwait(false);
            if (!DryRun && _cluster.Api is not null) await _cluster.Api.Lock.PublishSummaryAsync(journal, ct).ConfigureAwait(false);
            _progress?.Report(new RotationEvent.PhaseChanged(Time.GetUtcNow(), journal.Phase));
            return journal;
        }

        public async Task<RotationJournal> StepsAsync(RotationJournal journal, IReadOnlyList<Step> steps, string rotationId, CancellationToken ct)
        {
            var context = new StepContext(Nodes, _cluster.Paths, rotationId, DryRun, Time, _cluster.Restarts) { Api = _cluster.Api, WorkloadParallelism = _workloadParallelism };
            var model = _cluster.TrustGate;
            if (_cluster.TrustGateFactory is { } factory && !DryRun)
            {
                Stage(RunStage.ReadingCluster);
                model = await factory(ct).ConfigureAwait(false);
            }
            var gate = model is null ? (ITrustGate)new KubeadmLayoutGate(_cluster.Paths) : new AllTrustGates(new KubeadmLayoutGate(_cluster.Paths), model);
            return await new RotationEngine(context, _journals, gate, PhaseSteps.Batches(_kubeletParallelism), this).RunAsync(steps, journal, ct).ConfigureAwait(false);
        }

        public RotationOutcome Outcome(RotationJournal journal, IReadOnlyList<Step> steps) =>
            new(journal.RotationId, journal.Phase, DryRun, journal.Cas,
                steps.Select(s => Reports.LastOrDefault(r => r.Id == s.Id) ?? CaRotation.Report(s, StepOutcome.Journaled, [])).ToList(),
                Nodes.PlannedChanges.Select(c => c.Describe()).ToList(), Reading.Copies);

        public void Report(RotationEvent value)
        {
            if (value is RotationEvent.StepFinished finished)
                lock (Reports) Reports.Add(CaRotation.Report(finished.Step, finished.Outcome, finished.Changes));
            _progress?.Report(value);
        }

        private sealed class NoLock : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
