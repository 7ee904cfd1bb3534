using System.Globalization;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>`kube-ca-rotate status`: where a rotation stands, from the journals on the control-plane nodes; changes nothing.</summary>
public sealed class RotateStatusCommand(IAnsiConsole console) : AsyncCommand<RotationClusterSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RotationClusterSettings settings, CancellationToken cancellationToken)
    {
        using var target = await settings.OpenAsync(ApiUse.IfReachable, cancellationToken);
        var status = await CaRotation.StatusAsync(target.Cluster, cancellationToken);
        if (settings.Format == OutputFormat.Json) RawText.WriteLine(console, Json.Serialize(status));
        else WriteTable(console, status);
        return ExitCodes.Ok;
    }

    public static void WriteTable(IAnsiConsole console, RotationStatus status)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string value) => grid.AddRow(new Markup($"[bold]{name}[/]"), new Text(value));
        Row("Rotation", status.RotationId ?? "none");
        Row("Phase", ProgressText.Phase(status.Phase));
        Row("Mode", status.Mode.ToString().ToLowerInvariant());
        Row("CAs", status.Cas.Count == 0 ? "-" : string.Join("\n", status.Cas.Select(ca =>
            $"{RotationPaths.Name(ca.Ca)}: old sha256 {ProgressText.Short(ca.OldSha256)} -> new sha256 {ProgressText.Short(ca.NewSha256)}")));
        Row("Steps finished", status.FinishedSteps.ToString(CultureInfo.InvariantCulture));
        Row("Started", Time(status.StartedAt));
        Row("Updated", Time(status.UpdatedAt));
        Row("Journal", status.JournalCopies.Count == 0 ? "-" : string.Join(", ", status.JournalCopies.Select(c =>
            $"{c.Node} {c.State.ToString().ToLowerInvariant()}{(c.Generation is { } g ? string.Create(CultureInfo.InvariantCulture, $" (generation {g})") : "")}")));
        Row("Next", status.NextAction);
        console.Write(grid);
        RotationReport.WriteCopies(console, status.JournalCopies);
    }

    private static string Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";
}
