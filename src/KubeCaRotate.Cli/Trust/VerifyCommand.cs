using System.ComponentModel;
using System.Diagnostics;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Trust;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Trust;

/// <summary>kube-ca-rotate verify: every trust edge of the cluster, what is broken or at risk and why.</summary>
public sealed class VerifyCommand(IAnsiConsole console) : AsyncCommand<VerifyCommand.Settings>
{
    public sealed class Settings : ClusterSourceSettings
    {
        [CommandOption("--graph <FORMAT>")]
        [Description("Also write a picture of the graph, coloured by CA: dot, mermaid or html (with --graph-out; a .png file needs Graphviz).")]
        public string? Graph { get; init; }

        [CommandOption("--graph-out <FILE>")]
        [Description("Where to write the graph (with --graph dot, a FILE ending in .png is rendered by Graphviz's dot).")]
        public string? GraphOut { get; init; }

        [CommandOption("--all")]
        [Description("List healthy edges too in the table (default: a count).")]
        public bool All { get; init; }

        public override ValidationResult Validate()
        {
            var baseResult = base.Validate();
            if (!baseResult.Successful) return baseResult;
            if (Graph is not null and not ("dot" or "mermaid" or "html")) return ValidationResult.Error($"--graph '{Graph}' must be dot, mermaid or html.");
            if (Graph is not null && GraphOut is null) return ValidationResult.Error("--graph needs --graph-out FILE.");
            if (GraphOut is not null && Graph is null) return ValidationResult.Error("--graph-out needs --graph dot|mermaid|html.");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var snapshot = await settings.ReadAsync(cancellationToken);
        var report = new TrustModel().Evaluate(snapshot, settings.AtTime);
        if (settings.Graph is not null) await WriteGraphAsync(report, settings.Graph, settings.GraphOut!, cancellationToken);
        if (settings.Format == OutputFormat.Json) RawText.WriteLine(console, Json.Serialize(report));
        else Render(report, settings.All);
        return report.State switch
        {
            EdgeState.Broken => ExitCodes.ProblemsFound,
            EdgeState.AtRisk => ExitCodes.AtRisk,
            _ => ExitCodes.Ok,
        };
    }

    private void Render(TrustReport report, bool all)
    {
        SettingsWarnings(report);
        var table = new Table().Border(TableBorder.Simple).AddColumns("Edge", "State", "Server presents", "Client trusts", "Why");
        foreach (var e in report.Edges.Where(e => all || e.State != EdgeState.Healthy).OrderByDescending(e => e.State).ThenBy(e => e.Id, StringComparer.Ordinal))
        {
            var colour = e.State switch { EdgeState.Broken => "red", EdgeState.AtRisk => "yellow", _ => "green" };
            table.AddRow(Markup.Escape(e.Id), $"[{colour}]{e.State}[/]", Markup.Escape(e.ServerEnd.PresentsCa ?? "-"),
                Markup.Escape(string.Join(", ", e.ClientEnd.Trusts)), Markup.Escape(string.Join("\n", e.Reasons)));
        }
        if (table.Rows.Count > 0) console.Write(table);
        var healthy = report.Edges.Count(e => e.State == EdgeState.Healthy);
        console.MarkupLine($"{report.Edges.Count} edges: [green]{healthy} healthy[/], [yellow]{report.AtRisk.Count()} at risk[/], [red]{report.Broken.Count()} broken[/].");
    }

    private void SettingsWarnings(TrustReport report) => ClusterSourceSettings.WriteProblems(console, report.Problems);

    private async Task WriteGraphAsync(TrustReport report, string format, string output, CancellationToken ct)
    {
        var text = format switch
        {
            "dot" => TrustGraphWriter.ToDot(report),
            "mermaid" => TrustGraphWriter.ToMermaid(report),
            _ => TrustGraphWriter.ToHtml(report),
        };
        var full = Path.GetFullPath(output);
        if (format == "dot" && full.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            var dotFile = Path.ChangeExtension(full, ".dot");
            await File.WriteAllTextAsync(dotFile, text, ct);
            if (!await RenderPngAsync(dotFile, full, ct))
                console.MarkupLine($"[yellow]warning:[/] Graphviz 'dot' is not installed, so no PNG was made; the graph is in {Markup.Escape(dotFile)}.");
            return;
        }
        await File.WriteAllTextAsync(full, text, ct);
    }

    private static async Task<bool> RenderPngAsync(string dotFile, string png, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dot") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-Tpng", dotFile, "-o", png }) start.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(start)!;
            await p.WaitForExitAsync(ct);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
