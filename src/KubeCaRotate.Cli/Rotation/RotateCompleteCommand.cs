using System.Text.Json;
using System.Text.Json.Nodes;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>
/// `kube-ca-rotate complete`: proves nothing in use depends on the old CAs, distrusts them and restores kubeadm's
/// layout; then writes the operator's new admin kubeconfig (0600) and prints the new discovery hash, the warnings and
/// what was verified.
/// </summary>
public sealed class RotateCompleteCommand(IAnsiConsole console) : AsyncCommand<RotateCompleteSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RotateCompleteSettings settings, CancellationToken cancellationToken)
    {
        if (!settings.DryRun && !settings.Yes) Confirmation.EnsureCanAsk(console, "complete");
        RotationProgress.Preparation(console, settings.Format).Begin(RunStage.OpeningNodes);
        using var target = await settings.OpenAsync(settings.DryRun ? ApiUse.IfReachable : ApiUse.Required, cancellationToken);
        if (!settings.DryRun && !settings.Yes)
        {
            var status = await CaRotation.StatusAsync(target.Cluster, cancellationToken);
            RotateStatusCommand.WriteTable(console, status);
            await Confirmation.AskAsync(console, $"Distrust the old CAs of rotation {status.RotationId} for good?", cancellationToken);
        }

        var outcome = await RunAsync(console, settings.Format, settings.ToRequest(), settings.DryRun ? target.Cluster : await target.WithTrustGateAsync(cancellationToken), cancellationToken);
        string? written = null;
        if (outcome.AdminKubeconfig is { } kubeconfig && !outcome.DryRun)
        {
            written = Path.GetFullPath(settings.AdminKubeconfigOut ?? AdminKubeconfigFile.DefaultPath(target.BaseDirectory, outcome.RotationId));
            try
            {
                await AdminKubeconfigFile.WriteAsync(written, kubeconfig, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"The rotation is complete, but the new admin kubeconfig could not be written to {written} ({e.Message.TrimEnd('.')}); use /etc/kubernetes/admin.conf of a control-plane node, which holds the new credentials.", e);
            }
        }

        if (settings.Format == OutputFormat.Json)
        {
            var json = JsonSerializer.SerializeToNode(outcome, Json.Options)!.AsObject();
            json["adminKubeconfigFile"] = written;
            RawText.WriteLine(console, json.ToJsonString(Json.Options));
            return ExitCodes.Ok;
        }
        RotationReport.WriteRun(console, outcome);
        if (outcome.DiscoveryTokenCaCertHash is { } hash)
            console.MarkupLine($"New nodes join with [bold]--discovery-token-ca-cert-hash {Markup.Escape(hash)}[/]");
        if (written is not null)
            console.MarkupLine($"New admin kubeconfig (0600): {Markup.Escape(written)}  (the old admin.conf copies are refused from now on)");
        return ExitCodes.Ok;
    }

    /// <summary>Runs the library's complete with progress on <paramref name="console"/> (shared with `demo`).</summary>
    public static Task<RotationOutcome> RunAsync(IAnsiConsole console, OutputFormat format, FinishRequest request, RotationCluster cluster, CancellationToken ct) =>
        RotationProgress.RunAsync(console, format, null, progress => CaRotation.CompleteAsync(request, cluster, progress, ct));
}
