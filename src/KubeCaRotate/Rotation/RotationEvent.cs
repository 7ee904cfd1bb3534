namespace KubeCaRotate.Rotation;

/// <summary>What happened to a step.</summary>
public enum StepOutcome
{
    /// <summary>Changes were applied and verified.</summary>
    Applied,
    /// <summary>The state already was what the step makes; journaled without a change.</summary>
    AlreadyDone,
    /// <summary>The journal says the step finished in an earlier run.</summary>
    Journaled,
    /// <summary>Dry run: the changes were recorded, not made.</summary>
    Planned,
}

/// <summary>
/// Progress of a run, for renderers (a live table, plain lines, JSON). The library never writes to the console; the CLI
/// turns these into output.
/// </summary>
public abstract record RotationEvent(DateTimeOffset At)
{
    public sealed record BatchStarted(DateTimeOffset At, string Batch, IReadOnlyList<string> Nodes, int Parallelism) : RotationEvent(At);

    public sealed record StepStarted(DateTimeOffset At, Step Step) : RotationEvent(At);

    public sealed record StepFinished(DateTimeOffset At, Step Step, StepOutcome Outcome, IReadOnlyList<StepChange> Changes) : RotationEvent(At);

    public sealed record PhaseChanged(DateTimeOffset At, RotationPhase Phase) : RotationEvent(At);

    /// <summary>A <see cref="RunStage"/> without steps to show began (the CLI reports the ones before the library runs).</summary>
    public sealed record StageStarted(DateTimeOffset At, RunStage Stage) : RotationEvent(At);
}
