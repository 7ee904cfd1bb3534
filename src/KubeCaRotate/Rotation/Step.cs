namespace KubeCaRotate.Rotation;

/// <summary>What a step sees: the nodes (dry-run wrapped in a dry run), the paths, the run's id and journal, and the clock.</summary>
public sealed record StepContext(RotationNodes Nodes, RotationPaths Paths, string RotationId, bool DryRun, TimeProvider Time, IRestartObserver? Restarts)
{
    /// <summary>The API side (null: none was given; API steps then refuse, or in a dry run are planned without reading the API).</summary>
    public RotationApi? Api { get; init; }

    /// <summary>How many workloads roll at once.</summary>
    public int WorkloadParallelism { get; init; } = 4;

    /// <summary>The API side, or a sentence saying one is needed for <paramref name="what"/>.</summary>
    public RotationApi RequireApi(string what) =>
        Api ?? throw new RotationException($"Cannot {what} without a connection to the cluster's API; run with an inventory whose control-plane nodes hold admin.conf.");
}

/// <summary>
/// One step of a phase, as data (kubeadm's phases, Talos's steps): a stable id (journaled), a name, the rows of
/// reference/procedure.md it covers, the node it touches, the batch it runs in, and functions:
/// <see cref="Propose"/> computes from the current state the changes still needed (none: the step is done);
/// <see cref="IsDone"/> overrides that check for steps whose effect cannot be read back (a kubelet restart, which is
/// done only once journaled); <see cref="Verify"/> checks the effect after applying (waits for a restart).
/// Applying is the engine's: it applies the proposed changes, so what is shown, gated and backed up is what is done.
/// </summary>
public sealed record Step
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<string> ProcedureRows { get; init; }
    public required string Node { get; init; }

    /// <summary>Consecutive steps with the same batch run together: different nodes in parallel up to the batch's limit, one node's steps in order.</summary>
    public required string Batch { get; init; }

    public required Func<StepContext, CancellationToken, Task<IReadOnlyList<StepChange>>> Propose { get; init; }

    public Func<StepContext, CancellationToken, Task<bool>>? IsDone { get; init; }

    public Func<StepContext, IReadOnlyList<StepChange>, DateTimeOffset, CancellationToken, Task>? Verify { get; init; }

    /// <summary>An unavoidable disruption this step causes (e.g. the only API server restarting), said in the plan; null: none expected.</summary>
    public string? Disruption { get; init; }

    public override string ToString() => Id;
}

/// <summary>
/// A batch's concurrency: how many nodes' steps run at once (1: one node at a time, waiting for each). With
/// <paramref name="Canary"/>, the first node's steps run alone and the others start only once they succeeded, so a
/// change that breaks a node breaks one, not a whole wave.
/// </summary>
public sealed record BatchPolicy(string Batch, int Parallelism, bool Canary = false);
