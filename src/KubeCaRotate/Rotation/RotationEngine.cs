namespace KubeCaRotate.Rotation;

/// <summary>
/// Runs steps in order. For each step: skip it when the journal has it or it is already done (journaling that); ask the
/// trust gate whether the state after its changes breaks a required edge, and refuse with the reasons if so; back up
/// every file it changes (first original wins); apply; verify; journal it on every control-plane node. Consecutive
/// steps of one batch run per node, nodes in parallel up to the batch's limit. In a dry run the same flow runs over
/// dry-run nodes (reads see planned changes), waits are skipped and each step's changes are reported as planned.
/// </summary>
public sealed class RotationEngine(StepContext context, JournalStore journals, ITrustGate? gate, IReadOnlyList<BatchPolicy>? batches = null, IProgress<RotationEvent>? progress = null)
{
    private readonly SemaphoreSlim _journalLock = new(1, 1);

    /// <summary>Runs <paramref name="steps"/> from <paramref name="journal"/>; returns the journal after the last step.</summary>
    public async Task<RotationJournal> RunAsync(IReadOnlyList<Step> steps, RotationJournal journal, CancellationToken ct)
    {
        var current = journal;
        foreach (var batch in Batches(steps))
        {
            var byNode = batch.GroupBy(s => s.Node).Select(g => g.ToList()).ToList();
            var policy = batches?.FirstOrDefault(b => b.Batch == batch[0].Batch);
            var parallelism = Math.Max(1, policy?.Parallelism ?? 1);
            progress?.Report(new RotationEvent.BatchStarted(context.Time.GetUtcNow(), batch[0].Batch, byNode.Select(g => g[0].Node).ToList(), parallelism));
            if (policy is { Canary: true } && byNode.Count > 1 && parallelism > 1)
            {
                await RunNodesAsync(byNode[..1], 1, () => current, j => current = j, ct).ConfigureAwait(false);
                byNode = byNode[1..];
            }
            await RunNodesAsync(byNode, parallelism, () => current, j => current = j, ct).ConfigureAwait(false);
        }
        return current;
    }

    /// <summary>Each node's steps in order, nodes in parallel up to <paramref name="parallelism"/>; the first failure stops the rest.</summary>
    private async Task RunNodesAsync(IReadOnlyList<List<Step>> byNode, int parallelism, Func<RotationJournal> read, Action<RotationJournal> write, CancellationToken ct)
    {
        {
            using var slots = new SemaphoreSlim(parallelism, parallelism);
            // The first failure stops the batch: no further node starts its steps (a control plane that did not come back must not be followed by the next).
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var tasks = byNode.Select(async nodeSteps =>
            {
                await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                try
                {
                    foreach (var step in nodeSteps)
                        await RunStepAsync(step, read, write, stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                    throw;
                }
                finally
                {
                    slots.Release();
                }
            }).ToList();
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Another node's failure cancelled this one: surface that failure, not the cancellation.
                var first = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).FirstOrDefault(e => e is not OperationCanceledException);
                if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
                throw;
            }
        }
    }

    private async Task RunStepAsync(Step step, Func<RotationJournal> read, Action<RotationJournal> write, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        progress?.Report(new RotationEvent.StepStarted(context.Time.GetUtcNow(), step));
        if (read().IsFinished(step.Id))
        {
            progress?.Report(new RotationEvent.StepFinished(context.Time.GetUtcNow(), step, StepOutcome.Journaled, []));
            return;
        }

        var changes = await step.Propose(context, ct).ConfigureAwait(false);
        var done = step.IsDone is { } isDone ? await isDone(context, ct).ConfigureAwait(false) : changes.Count == 0;
        if (done)
        {
            await JournalAsync(step, read, write, ct).ConfigureAwait(false);
            progress?.Report(new RotationEvent.StepFinished(context.Time.GetUtcNow(), step, StepOutcome.AlreadyDone, []));
            return;
        }

        if (gate is not null)
        {
            var reasons = await gate.CheckAsync(step, changes, context.Nodes, ct).ConfigureAwait(false);
            if (reasons.Count > 0) throw new StepRefusedException(step.Id, reasons);
        }

        var appliedAt = context.Time.GetUtcNow();
        foreach (var change in changes.Where(c => c is not StepChange.RolloutRestart)) await ApplyAsync(change, read().RotationId, ct).ConfigureAwait(false);
        await RollAsync(changes.OfType<StepChange.RolloutRestart>().ToList(), ct).ConfigureAwait(false);
        if (step.Verify is { } verify) await verify(context, changes, appliedAt, ct).ConfigureAwait(false);
        await JournalAsync(step, read, write, ct).ConfigureAwait(false);
        progress?.Report(new RotationEvent.StepFinished(context.Time.GetUtcNow(), step, context.DryRun ? StepOutcome.Planned : StepOutcome.Applied, changes));
    }

    private async Task ApplyAsync(StepChange change, string rotationId, CancellationToken ct)
    {
        switch (change)
        {
            case StepChange.FileWrite file:
            {
                var node = context.Nodes[file.Node].Access;
                if (file.Backup) await new FileBackup(node, context.Paths, rotationId, context.Time).BackupAsync(file.Path, ct).ConfigureAwait(false);
                if (file.Content is null) await node.DeleteFileAsync(file.Path, ct).ConfigureAwait(false);
                else await node.WriteFileAsync(file.Path, file.Content, file.Mode, ct).ConfigureAwait(false);
                break;
            }
            case StepChange.RunCommand command:
            {
                var result = await context.Nodes[command.Node].Access.RunAsync(command.Argv, ct).ConfigureAwait(false);
                if (result.ExitCode != 0)
                    throw new RotationException($"Restarting {command.Component} on {command.Node} with '{string.Join(' ', command.Argv)}' failed with exit code {result.ExitCode} ({FirstLine(result.StandardError + result.StandardOutput)}); fix the restart command in the inventory or restart it by hand, then run again.");
                break;
            }
            case StepChange.ObjectWrite obj:
            {
                if (context.DryRun) break;
                var api = context.RequireApi($"change {obj.Object}");
                await api.ObjectBackup.BackupAsync(rotationId, obj.Object, ct).ConfigureAwait(false);
                await api.Objects.WriteFieldAsync(obj.Object, obj.Field, obj.Pem, ct).ConfigureAwait(false);
                break;
            }
            case StepChange.Wait:
                break;
            case StepChange.ObjectDelete delete:
            {
                if (context.DryRun) break;
                var api = context.RequireApi($"delete {delete.Object}");
                await api.ObjectBackup.BackupAsync(rotationId, delete.Object, ct).ConfigureAwait(false);
                await api.Objects.DeleteAsync(delete.Object, ct).ConfigureAwait(false);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change, "unknown change");
        }
    }

    /// <summary>Rolling restarts in waves of <see cref="StepContext.WorkloadParallelism"/>: a wave is restarted, then waited for, before the next.</summary>
    private async Task RollAsync(IReadOnlyList<StepChange.RolloutRestart> rolls, CancellationToken ct)
    {
        if (rolls.Count == 0 || context.DryRun) return;
        var api = context.RequireApi("restart workloads");
        foreach (var wave in rolls.Chunk(Math.Max(1, context.WorkloadParallelism)))
        {
            var restarted = new List<WorkloadRef>();
            foreach (var roll in wave)
                if (await api.Workloads.RestartAsync(roll.Workload, roll.Stamp, ct).ConfigureAwait(false)) restarted.Add(roll.Workload);
            await Task.WhenAll(restarted.Select(w => api.Workloads.WaitRolledOutAsync(w, ct))).ConfigureAwait(false);
        }
    }

    private async Task JournalAsync(Step step, Func<RotationJournal> read, Action<RotationJournal> write, CancellationToken ct)
    {
        await _journalLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var next = read().WithStepFinished(step.Id, context.Time.GetUtcNow());
            await journals.WriteAsync(next, ct).ConfigureAwait(false);
            write(next);
        }
        finally
        {
            _journalLock.Release();
        }
    }

    private static IEnumerable<List<Step>> Batches(IReadOnlyList<Step> steps)
    {
        var batch = new List<Step>();
        foreach (var step in steps)
        {
            if (batch.Count > 0 && batch[0].Batch != step.Batch)
            {
                yield return batch;
                batch = [];
            }
            batch.Add(step);
        }
        if (batch.Count > 0) yield return batch;
    }

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n').FirstOrDefault()?.Trim();
        return string.IsNullOrEmpty(line) ? "no output" : line;
    }
}
