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
/// <item>Run the phase's steps (<see cref="ClusterCaTrustSteps"/>) with the <see cref="RotationEngine"/>: journaled or
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
    /// <summary>The trust phase, or its plan when <see cref="RotationRequest.DryRun"/> is set. See the type's comment for the steps.</summary>
    public static async Task<RotationOutcome> StartAsync(RotationRequest request, RotationCluster cluster, IProgress<RotationEvent>? progress = null, CancellationToken ct = default)
    {
        var unsupported = request.Cas.FirstOrDefault(c => c.Ca != CaKind.Cluster);
        if (unsupported is not null)
            throw new RotationException($"Rotating the {KubeadmCatalog.Ca(unsupported.Ca).Description} is not built yet; rotate the cluster CA alone with --ca cluster.");
        if (request.Cas.Count == 0) throw new RotationException("No CA was chosen; pass --ca cluster.");

        var time = cluster.Issuer.Time;
        var nodes = request.DryRun ? cluster.Nodes.ForDryRun(time) : cluster.Nodes;
        var controlPlanes = nodes.ControlPlanes.Select(n => n.Access).ToList();
        var journals = new JournalStore(controlPlanes, cluster.Paths);
        var reading = await journals.ReadAsync(ct).ConfigureAwait(false);
        var journal = reading.Newest is { Phase: not (RotationPhase.Completed or RotationPhase.RolledBack) } open ? open : null;
        if (journal is not null && journal.Mode != request.Mode)
            throw new RotationException($"Rotation {journal.RotationId} is under way in mode {journal.Mode.ToString().ToLowerInvariant()}; finish it with that mode or roll it back first.");

        var staged = new List<StagedCa>();
        foreach (var ca in request.Cas)
            staged.Add(await StagedCa.PrepareAsync(ca, request.Mode, controlPlanes, cluster.Paths, journal?.For(ca.Ca), cluster.Issuer, ct).ConfigureAwait(false));

        if (journal is null)
        {
            var now = time.GetUtcNow();
            foreach (var ca in staged)
                foreach (var (path, content, mode) in ca.Files(cluster.Paths))
                    await controlPlanes[0].WriteFileAsync(path, content, mode, ct).ConfigureAwait(false);
            journal = new RotationJournal
            {
                RotationId = RotationJournal.NewRotationId(now), Generation = 1, Phase = RotationPhase.Trusting, Mode = request.Mode,
                Cas = staged.Select(s => s.ToJournal()).ToList(), StartedAt = now, UpdatedAt = now,
            };
            await journals.WriteAsync(journal, ct).ConfigureAwait(false);
            progress?.Report(new RotationEvent.PhaseChanged(now, RotationPhase.Trusting));
        }

        var context = new StepContext(nodes, cluster.Paths, journal.RotationId, request.DryRun, time, cluster.Restarts);
        var steps = staged.SelectMany(s => ClusterCaTrustSteps.Build(s, nodes, cluster.Paths)).ToList();
        var gate = cluster.TrustGate is null ? (ITrustGate)new KubeadmLayoutGate(cluster.Paths) : new AllTrustGates(new KubeadmLayoutGate(cluster.Paths), cluster.TrustGate);
        var reports = new List<StepReport>();
        var recorder = new StepRecorder(reports, progress);
        var engine = new RotationEngine(context, journals, gate,
            [new BatchPolicy(ClusterCaTrustSteps.StageBatch, int.MaxValue), new BatchPolicy(ClusterCaTrustSteps.BundleBatch, int.MaxValue),
             new BatchPolicy(ClusterCaTrustSteps.KubeconfigBatch, int.MaxValue), new BatchPolicy(ClusterCaTrustSteps.KubeletBatch, request.KubeletParallelism)],
            recorder);
        journal = await engine.RunAsync(steps, journal, ct).ConfigureAwait(false);
        journal = journal.WithPhase(RotationPhase.Trusted, time.GetUtcNow());
        await journals.WriteAsync(journal, ct).ConfigureAwait(false);
        progress?.Report(new RotationEvent.PhaseChanged(time.GetUtcNow(), RotationPhase.Trusted));

        return new RotationOutcome(journal.RotationId, journal.Phase, request.DryRun, journal.Cas,
            steps.Select(s => reports.LastOrDefault(r => r.Id == s.Id) ?? Report(s, StepOutcome.Journaled, [])).ToList(),
            nodes.PlannedChanges.Select(c => c.Describe()).ToList(), reading.Copies);
    }

    /// <summary>`complete`: proves nothing depends on the old CA, distrusts it, restores kubeadm's layout (phase switched → completed).</summary>
    public static Task<RotationOutcome> CompleteAsync(FinishRequest request, RotationCluster cluster, IProgress<RotationEvent>? progress = null, CancellationToken ct = default) =>
        throw new RotationException("complete is being built.");

    /// <summary>`rollback`: from any phase before completed, restores every backed-up file and object and restarts what reads them.</summary>
    public static Task<RotationOutcome> RollbackAsync(FinishRequest request, RotationCluster cluster, IProgress<RotationEvent>? progress = null, CancellationToken ct = default) =>
        throw new RotationException("rollback is being built.");

    /// <summary>`status`: the phase, progress and next action from the journals on the control-plane nodes.</summary>
    public static Task<RotationStatus> StatusAsync(RotationCluster cluster, CancellationToken ct = default) =>
        throw new RotationException("status is being built.");

    /// <summary>`plan`: the trust phase's steps in order, each with its procedure rows and the changes it would make; changes nothing.</summary>
    public static Task<RotationOutcome> PlanAsync(RotationRequest request, RotationCluster cluster, CancellationToken ct = default) =>
        StartAsync(request with { DryRun = true }, cluster, null, ct);

    private static StepReport Report(Step s, StepOutcome outcome, IReadOnlyList<StepChange> changes) =>
        new(s.Id, s.Name, s.ProcedureRows, s.Node, s.Batch, outcome, changes.Select(c => c.Describe()).ToList());

    /// <summary>Keeps a report per finished step (synchronously, unlike Progress&lt;T&gt;) and passes events on.</summary>
    private sealed class StepRecorder(List<StepReport> reports, IProgress<RotationEvent>? next) : IProgress<RotationEvent>
    {
        public void Report(RotationEvent value)
        {
            if (value is RotationEvent.StepFinished finished)
                lock (reports) reports.Add(CaRotation.Report(finished.Step, finished.Outcome, finished.Changes));
            next?.Report(value);
        }
    }
}
