using System.Globalization;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>The words progress and reports use for phases, outcomes and counts, so the live view, the log lines and the tables agree.</summary>
public static class ProgressText
{
    /// <summary>The phase as the journal and -o json name it (trusting, rolled-back, ...).</summary>
    public static string Phase(RotationPhase phase) => System.Text.Json.JsonSerializer.Serialize(phase).Trim('"');

    public static string Outcome(StepOutcome outcome) => outcome switch
    {
        StepOutcome.Applied => "applied",
        StepOutcome.AlreadyDone => "already done",
        StepOutcome.Journaled => "done in an earlier run",
        StepOutcome.Planned => "to do",
        _ => outcome.ToString(),
    };

    public static string Changes(int count) => count switch
    {
        0 => "",
        1 => " (1 change)",
        _ => string.Create(CultureInfo.InvariantCulture, $" ({count} changes)"),
    };

    public static string AtATime(int parallelism, int nodes) =>
        parallelism >= nodes ? "all at once" : parallelism == 1 ? "one at a time" : string.Create(CultureInfo.InvariantCulture, $"{parallelism} at a time");

    /// <summary>What the tool is doing in a stage without steps, as a line or the live view says it.</summary>
    public static string Stage(RunStage stage) => stage switch
    {
        RunStage.OpeningNodes => "opening the nodes and reaching the Kubernetes API",
        RunStage.Planning => "planning: reading every node's files and checking each step",
        RunStage.TakingLock => "taking the rotation lock (the kube-system Lease)",
        RunStage.ReadingCluster => "reading the cluster for the trust model",
        RunStage.ProvingOldCaUnused => "proving nothing in use depends on the old CAs",
        _ => stage.ToString(),
    };

    public static string Short(string sha256) => sha256.Length > 16 ? sha256[..16] + "…" : sha256;
}
