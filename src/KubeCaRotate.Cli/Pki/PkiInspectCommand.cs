using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Pki;

public sealed class PkiInspectCommand(IAnsiConsole console) : AsyncCommand<PkiInspectCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("A kubeadm configuration directory (/etc/kubernetes or a copy): pki/ and the *.conf files.")]
        public string? Dir { get; init; }

        [CommandOption("--pki-dir <DIR>")]
        [Description("The certificates directory when it is not DIR/pki (kubeadm's certificatesDir).")]
        public string? PkiDir { get; init; }

        [CommandOption("--warn-within <DURATION>")]
        [Description("Report certificates expiring within this time (default 30d; e.g. 90d, 12h).")]
        public string? WarnWithin { get; init; }

        [CommandOption("-o|--output <FORMAT>")]
        [Description("table (default) or json.")]
        public string? Output { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Dir)) return ValidationResult.Error("--dir is required.");
            if (WarnWithin is not null && !DurationOption.TryParse(WarnWithin, out _))
                return ValidationResult.Error($"--warn-within '{WarnWithin}' is not a duration such as 30d or 12h.");
            if (!OutputFormats.TryParse(Output, out _)) return ValidationResult.Error($"-o '{Output}' must be table or json.");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var dir = Path.GetFullPath(settings.Dir!);
        if (!Directory.Exists(dir))
            throw new UsageException($"The directory {dir} does not exist; pass the kubeadm configuration directory, e.g. --dir /etc/kubernetes.");
        var warn = TimeSpan.FromDays(30);
        if (settings.WarnWithin is not null) DurationOption.TryParse(settings.WarnWithin, out warn);
        OutputFormats.TryParse(settings.Output, out var format);

        // The directory is read through a node handle rooted at "/", so the same inspector serves real nodes.
        var node = new LocalNode("local", "/");
        var pkiDir = settings.PkiDir is null ? Path.Combine(dir, "pki") : Path.GetFullPath(settings.PkiDir);
        var report = await new PkiInspector(TimeProvider.System).InspectAsync(node, dir, pkiDir, warn, cancellationToken);
        if (report.CertificateAuthorities.Count == 0 && report.Certificates.Count == 0 && report.Problems.Count == 0)
            throw new UsageException($"{dir} holds no kubeadm certificate or kubeconfig (looked for {pkiDir}/ca.crt, {dir}/admin.conf, ...); pass the kubeadm configuration directory.");

        if (format == OutputFormat.Json) RawText.WriteLine(console, Json.Serialize(report));
        else PkiInspectionTable.Render(console, report);
        return report.IsClean ? ExitCodes.Ok : ExitCodes.ProblemsFound;
    }
}
