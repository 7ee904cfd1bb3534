using KubeCaRotate.Cli.Output;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>`kube-ca-rotate rollback`: from any phase before completed, back to the original files and objects, byte for byte.</summary>
public sealed class RotateRollbackCommand(IAnsiConsole console) : AsyncCommand<FinishSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, FinishSettings settings, CancellationToken cancellationToken)
    {
        if (!settings.DryRun && !settings.Yes) Confirmation.EnsureCanAsk(console, "rollback");
        RotationProgress.Preparation(console, settings.Format).Begin(RunStage.OpeningNodes);
        using var target = await settings.OpenAsync(settings.DryRun ? ApiUse.IfReachable : ApiUse.Required, cancellationToken);
        if (!settings.DryRun && !settings.Yes)
        {
            var status = await CaRotation.StatusAsync(target.Cluster, cancellationToken);
            RotateStatusCommand.WriteTable(console, status);
            await Confirmation.AskAsync(console, $"Roll rotation {status.RotationId} back to the original CAs?", cancellationToken);
        }
        var outcome = await RotationProgress.RunAsync(console, settings.Format, null,
            progress => CaRotation.RollbackAsync(settings.ToRequest(), target.Cluster, progress, cancellationToken));
        if (settings.Format == OutputFormat.Json) RawText.WriteLine(console, Json.Serialize(outcome));
        else RotationReport.WriteRun(console, outcome);
        return ExitCodes.Ok;
    }
}
