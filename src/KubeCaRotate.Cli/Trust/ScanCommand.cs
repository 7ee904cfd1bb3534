using KubeCaRotate.Cli.Output;
using KubeCaRotate.Trust;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Trust;

/// <summary>kube-ca-rotate scan: every place each CA appears, by fingerprint, and every leaf it signed.</summary>
public sealed class ScanCommand(IAnsiConsole console) : AsyncCommand<ClusterSourceSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClusterSourceSettings settings, CancellationToken cancellationToken)
    {
        var snapshot = await settings.ReadAsync(cancellationToken);
        var scan = new CaScanner().Scan(snapshot, settings.AtTime);
        if (settings.Format == OutputFormat.Json)
        {
            RawText.WriteLine(console, Json.Serialize(scan));
            return ExitCodes.Ok;
        }
        ClusterSourceSettings.WriteProblems(console, scan.Problems);
        foreach (var entry in scan.Authorities)
        {
            console.MarkupLine($"[bold]CA {Markup.Escape(entry.Ca.Name)}[/]  {Markup.Escape(entry.Ca.Subject)}  sha256 {entry.Ca.Sha256}  expires {entry.Ca.NotAfter:yyyy-MM-dd}");
            var places = new Table().Border(TableBorder.Simple).AddColumns("Where", "Node", "Location");
            foreach (var p in entry.Places) places.AddRow(p.Kind, Markup.Escape(p.Node ?? "-"), Markup.Escape(p.Location));
            console.Write(places);
            if (entry.Leaves.Count > 0)
            {
                var leaves = new Table().Border(TableBorder.Simple).AddColumns("Signed leaf", "Expires", "Where");
                foreach (var l in entry.Leaves)
                    leaves.AddRow(Markup.Escape(l.Subject), l.Expired ? $"[red]{l.NotAfter:yyyy-MM-dd} (expired)[/]" : $"{l.NotAfter:yyyy-MM-dd}",
                        Markup.Escape(string.Join("\n", l.Places.Select(p => (p.Node is null ? "" : p.Node + ":") + p.Location))));
                console.Write(leaves);
            }
        }
        if (scan.LeavesOfUnknownIssuer.Count > 0)
        {
            console.MarkupLine("[bold]Certificates whose issuer was not found[/]");
            foreach (var l in scan.LeavesOfUnknownIssuer) console.MarkupLine($"  {Markup.Escape(l.Subject)} expires {l.NotAfter:yyyy-MM-dd}: {Markup.Escape(string.Join(", ", l.Places.Select(p => (p.Node is null ? "" : p.Node + ":") + p.Location)))}");
        }
        return ExitCodes.Ok;
    }
}
