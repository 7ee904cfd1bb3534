using KubeCaRotate.Layout;
using Spectre.Console;

namespace KubeCaRotate.Cli.Pki;

/// <summary>Human output of `pki inspect`, in the spirit of `kubeadm certs check-expiration`.</summary>
internal static class PkiInspectionTable
{
    public static void Render(IAnsiConsole console, PkiInspectionReport report)
    {
        var leaves = new Table().Border(TableBorder.Simple).Title("Certificates");
        foreach (var h in new[] { "CERTIFICATE", "SIGNED BY", "EXPIRES (UTC)", "LEFT", "KEY" }) leaves.AddColumn(h);
        foreach (var c in report.Certificates)
            leaves.AddRow(Markup.Escape(c.Name), SignedBy(c), c.NotAfter.ToString("yyyy-MM-dd HH:mm"), Left(c.TimeLeft), c.KeyType);
        console.Write(leaves);

        var cas = new Table().Border(TableBorder.Simple).Title("Certificate authorities");
        foreach (var h in new[] { "CERTIFICATE AUTHORITY", "EXPIRES (UTC)", "LEFT", "KEY", "IN FILE", "EXTERNAL" }) cas.AddColumn(h);
        foreach (var c in report.CertificateAuthorities)
        {
            cas.AddRow(Markup.Escape(c.Name), c.NotAfter.ToString("yyyy-MM-dd HH:mm"), Left(c.TimeLeft), c.KeyType,
                c.CertificatesInFile.ToString(System.Globalization.CultureInfo.InvariantCulture), c.ExternallyManaged ? "yes" : "no");
        }
        console.Write(cas);

        console.WriteLine();
        console.MarkupLine("[bold]Details[/]");
        foreach (var c in report.CertificateAuthorities.Concat(report.Certificates))
        {
            console.MarkupLine($"[bold]{Markup.Escape(c.Name)}[/]  {Markup.Escape(c.Source)}");
            console.MarkupLine($"  subject {Markup.Escape(c.Subject)}; issuer {Markup.Escape(c.Issuer)}");
            if (c.AltNames.Count > 0) console.MarkupLine($"  SANs {Markup.Escape(string.Join(", ", c.AltNames))}");
            if (c.Usages.Count > 0) console.MarkupLine($"  usages {Markup.Escape(string.Join(", ", c.Usages))}");
            console.MarkupLine($"  valid {c.NotBefore:yyyy-MM-dd HH:mm} to {c.NotAfter:yyyy-MM-dd HH:mm} UTC; SHA-256 {c.Sha256Fingerprint}");
        }
        console.WriteLine();

        if (report.IsClean)
        {
            console.MarkupLine("[green]No problems found.[/]");
            return;
        }
        console.MarkupLine($"[red]{report.Problems.Count} problem(s):[/]");
        foreach (var p in report.Problems)
            console.MarkupLine($"  [red]{p.Kind}[/] {Markup.Escape(p.Message)}");
    }

    private static string SignedBy(InspectedCertificate c) =>
        c.SignedBy is null ? "[red]none[/]"
        : c.ExpectedCa is not null && c.SignedBy != c.ExpectedCa ? $"[red]{Markup.Escape(c.SignedBy)}[/]"
        : Markup.Escape(c.SignedBy);

    private static string Left(TimeSpan left) =>
        left <= TimeSpan.Zero ? "[red]expired[/]" : left < TimeSpan.FromDays(30) ? $"[yellow]{PkiInspector.Humanize(left)}[/]" : PkiInspector.Humanize(left);
}
