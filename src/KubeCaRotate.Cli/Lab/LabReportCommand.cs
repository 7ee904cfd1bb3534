using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Topology;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

/// <summary>
/// `lab report --dir DIR [--since T] [--until T] [-o table|json]`: the prober's attempts (DIR/probe.jsonl) summed per
/// trust edge over a window. Exit code 1 when the window holds a trust failure or an availability failure of the HA
/// endpoint: the two numbers a zero-downtime rotation must keep at 0.
/// </summary>
public sealed class LabReportCommand(IAnsiConsole console) : Command<LabReportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("The lab's directory (default ./.lab).")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("--since <TIME>")]
        [Description("Start of the window: an ISO 8601 time (2026-05-01T10:00:00Z) or a duration ago (90s, 10m, 2h). Default: the first attempt.")]
        public string? Since { get; init; }

        [CommandOption("--until <TIME>")]
        [Description("End of the window (exclusive), in the same forms. Default: now.")]
        public string? Until { get; init; }

        [CommandOption("-o|--output <FORMAT>")]
        [Description("table (default) or json.")]
        public string? Output { get; init; }
    }

    private static readonly JsonSerializerOptions ReportJson = new(ProbeLog.JsonOptions) { WriteIndented = true };

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputFormats.TryParse(settings.Output, out var format))
            throw new UsageException($"-o {settings.Output}: choose table or json.");
        var now = DateTimeOffset.UtcNow;
        var since = ParseTime("--since", settings.Since, now);
        var until = ParseTime("--until", settings.Until, now);
        var lab = LabTopology.Load(settings.Dir);
        var log = ProbeLog.Of(lab);
        if (!File.Exists(log.Path))
            throw new UsageException($"{log.Path} does not exist: the prober has not run in this lab (it starts with 'lab up').");
        var report = ProbeReport.Build(log.Read(), since, until);
        if (format == OutputFormat.Json)
        {
            RawText.WriteLine(console, JsonSerializer.Serialize(report, ReportJson));
        }
        else
        {
            console.MarkupLine($"{report.Attempts} attempts on {report.Edges.Count} edges{Window(report)}: " +
                $"[{(report.TrustFailures == 0 ? "green" : "red")}]{report.TrustFailures} trust failures[/], " +
                $"[{(report.EndpointFailures == 0 ? "green" : "red")}]{report.EndpointFailures} HA endpoint failures[/], {report.AvailabilityFailures} availability failures in all");
            var table = new Table().Border(TableBorder.Simple);
            foreach (var h in new[] { "EDGE", "KIND", "ATTEMPTS", "OK", "TRUST", "AVAIL", "LAST FAILURE" }) table.AddColumn(h);
            foreach (var e in report.Edges)
            {
                var last = e.LastFailure is { } f ? $"{f.Time:HH:mm:ss} {f.Class.ToString().ToLowerInvariant()}: {f.Error}" : "-";
                table.AddRow(Markup.Escape(e.Edge), JsonNamingPolicy.KebabCaseLower.ConvertName(e.Kind.ToString()), e.Attempts.ToString(CultureInfo.InvariantCulture), e.Ok.ToString(CultureInfo.InvariantCulture),
                    e.TrustFailures == 0 ? "0" : $"[red]{e.TrustFailures}[/]", e.AvailabilityFailures.ToString(CultureInfo.InvariantCulture), Markup.Escape(last));
            }
            console.Write(table);
        }
        return report.TrustFailures > 0 || report.EndpointFailures > 0 ? ExitCodes.ProblemsFound : ExitCodes.Ok;
    }

    private static string Window(ProbeReport r) =>
        r.Since is null && r.Until is null ? "" : $" from {r.Since?.ToString("u", CultureInfo.InvariantCulture) ?? "the start"} to {r.Until?.ToString("u", CultureInfo.InvariantCulture) ?? "now"}";

    private static DateTimeOffset? ParseTime(string option, string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
        if (DurationOption.TryParse(text, out var ago)) return now - ago;
        throw new UsageException($"{option} {text}: give an ISO 8601 time such as 2026-05-01T10:00:00Z or a duration ago such as 10m.");
    }
}
