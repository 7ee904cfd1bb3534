using KubeCaRotate.Cli.Output;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>
/// `kube-ca-rotate start`: the trust and switch phases (or up to trusted with --until trusted). It first plans (a dry
/// run: every read-only check, a brought CA validated), shows the plan's summary and asks unless --yes, then runs with
/// progress and prints what was done. Run again after an interruption, it continues from the journal with the same new CA.
/// </summary>
public sealed class RotateStartCommand(IAnsiConsole console) : AsyncCommand<RotateStartSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RotateStartSettings settings, CancellationToken cancellationToken)
    {
        if (!settings.DryRun && !settings.Yes) Confirmation.EnsureCanAsk(console, "start");
        var request = await settings.ToRequestAsync(dryRun: false, cancellationToken);
        var preparation = RotationProgress.Preparation(console, settings.Format);

        if (settings.DryRun)
        {
            preparation.Begin(RunStage.OpeningNodes);
            using var planning = await settings.OpenAsync(ApiUse.IfReachable, cancellationToken);
            preparation.Begin(RunStage.Planning);
            var dry = await RotatePlanCommand.PlanAsync(request, planning, cancellationToken);
            if (settings.Format == OutputFormat.Json) RawText.WriteLine(console, Json.Serialize(dry));
            else RotatePlanCommand.WriteTable(console, dry, planning);
            return ExitCodes.Ok;
        }

        preparation.Begin(RunStage.OpeningNodes);
        using var target = await settings.OpenAsync(ApiUse.Required, cancellationToken);
        preparation.Begin(RunStage.Planning);
        var plan = await RotatePlanCommand.PlanAsync(request, target, cancellationToken);
        if (!settings.Yes)
        {
            WritePlanSummary(plan, request);
            await Confirmation.AskAsync(console, "Start the rotation?", cancellationToken);
        }
        var outcome = await RunAsync(console, settings.Format, request, await target.WithTrustGateAsync(cancellationToken), plan.Steps.Count, cancellationToken);
        if (settings.Format == OutputFormat.Json) RawText.WriteLine(console, Json.Serialize(outcome));
        else RotationReport.WriteRun(console, outcome);
        if (settings.Format == OutputFormat.Table)
            console.MarkupLine(outcome.Phase == RotationPhase.Switched
                ? "Next: check your workloads, then run [bold]kube-ca-rotate complete[/] to distrust the old CAs (or [bold]rollback[/])."
                : "Next: run [bold]kube-ca-rotate start[/] again to switch to the new CAs, or [bold]rollback[/].");
        return ExitCodes.Ok;
    }

    /// <summary>Runs the library's start with progress on <paramref name="console"/> (shared with `demo`).</summary>
    public static Task<RotationOutcome> RunAsync(IAnsiConsole console, OutputFormat format, RotationRequest request, RotationCluster cluster, int? totalSteps, CancellationToken ct) =>
        RotationProgress.RunAsync(console, format, totalSteps, progress => CaRotation.StartAsync(request, cluster, progress, ct));

    private void WritePlanSummary(RotationOutcome plan, RotationRequest request)
    {
        var todo = plan.Steps.Where(s => s.Outcome == StepOutcome.Planned).ToList();
        console.MarkupLine($"Rotation of {Markup.Escape(string.Join(", ", plan.Cas.Select(c => RotationPaths.Name(c.Ca))))} ({ProgressText.Phase(request.Until)} at the end, mode {request.Mode.ToString().ToLowerInvariant()}):");
        foreach (var batch in todo.GroupBy(s => s.Batch))
            console.MarkupLine(Markup.Escape($"  {batch.Key}: {batch.Count()} steps on {string.Join(", ", batch.Select(s => s.Node).Distinct())}"));
        console.MarkupLine(Markup.Escape($"  {todo.Count} of {plan.Steps.Count} steps to do; `kube-ca-rotate plan` shows each change."));
        RotationReport.WriteCopies(console, plan.JournalCopies);
    }
}
