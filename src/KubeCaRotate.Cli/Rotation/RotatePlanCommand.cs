using KubeCaRotate.Cli.Output;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>`kube-ca-rotate plan`: the steps of the next phase in order, with their procedure rows and changes; changes nothing.</summary>
public sealed class RotatePlanCommand(IAnsiConsole console) : AsyncCommand<RotationRequestSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RotationRequestSettings settings, CancellationToken cancellationToken)
    {
        var request = await settings.ToRequestAsync(dryRun: true, cancellationToken);
        using var target = await settings.OpenAsync(ApiUse.IfReachable, cancellationToken);
        var plan = await PlanAsync(request, target, cancellationToken);
        if (settings.Format == OutputFormat.Json)
        {
            RawText.WriteLine(console, Json.Serialize(new { plan.Phase, plan.Cas, plan.Steps, plan.JournalCopies }));
            return ExitCodes.Ok;
        }
        WriteTable(console, plan, target);
        return ExitCodes.Ok;
    }

    /// <summary>The plan's table, after a note when the API could not be used (its steps then say what they could not read).</summary>
    public static void WriteTable(IAnsiConsole console, RotationOutcome plan, TargetCluster target)
    {
        if (target.ApiUnavailable is { } reason)
            console.MarkupLine($"[grey]The Kubernetes API is not used for this plan ({Markup.Escape(reason.TrimEnd('.'))}); the steps are planned from the node files.[/]");
        RotationReport.WritePlan(console, plan);
    }

    /// <summary>The dry run of `start`; whatever stops it is about the input or the cluster's current files (exit 2), since a plan changes nothing.</summary>
    public static async Task<RotationOutcome> PlanAsync(RotationRequest request, TargetCluster target, CancellationToken ct)
    {
        try
        {
            return await CaRotation.PlanAsync(request, target.Cluster, ct);
        }
        catch (RotationException e) when (e is not StepRefusedException)
        {
            throw new UsageException(e.Message);
        }
    }
}
