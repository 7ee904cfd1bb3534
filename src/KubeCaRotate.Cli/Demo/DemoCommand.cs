using System.ComponentModel;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using KubeCaRotate.Cli.Lab;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Cli.Rotation;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Demo;

/// <summary>
/// `kube-ca-rotate demo`: the tool's main job on the built-in lab. A lab comes up (its prober opens every trust edge
/// every second from then on), all three CAs are rotated (`start --yes`, then `complete`) with progress, and the
/// prober's report since the start is printed with the downtime figure; then the lab goes down (unless --keep).
/// Exit 0 only when the rotation completed and no trust edge failed.
/// </summary>
public sealed class DemoCommand(IAnsiConsole console) : AsyncCommand<DemoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("Directory for the lab; must be new or empty (default: a new temporary directory, removed afterwards unless --keep).")]
        public string? Dir { get; init; }

        [CommandOption("--control-planes <N>")]
        [Description("Control-plane nodes (default 3).")]
        [DefaultValue(3)]
        public int ControlPlanes { get; init; } = 3;

        [CommandOption("--workers <M>")]
        [Description("Worker nodes (default 2).")]
        [DefaultValue(2)]
        public int Workers { get; init; } = 2;

        [CommandOption("--namespaces <K>")]
        [Description("Application namespaces with workloads (default 3).")]
        [DefaultValue(3)]
        public int Namespaces { get; init; } = 3;

        [CommandOption("--keep")]
        [Description("Leave the lab running afterwards (stop it with `kube-ca-rotate lab down --dir DIR`).")]
        public bool Keep { get; init; }

        [CommandOption("-o|--output <FORMAT>")]
        [Description("table (default) or json (the report; progress goes to stderr).")]
        public string? Output { get; init; }

        public override ValidationResult Validate()
        {
            if (ControlPlanes < 1) return ValidationResult.Error($"--control-planes {ControlPlanes} must be at least 1.");
            if (Workers < 0) return ValidationResult.Error($"--workers {Workers} must be 0 or more.");
            if (Namespaces < 0) return ValidationResult.Error($"--namespaces {Namespaces} must be 0 or more.");
            if (!OutputFormats.TryParse(Output, out _)) return ValidationResult.Error($"-o '{Output}' must be table or json.");
            if (Dir is not null && Directory.Exists(Dir) && Directory.EnumerateFileSystemEntries(Dir).Any())
                return ValidationResult.Error($"{Path.GetFullPath(Dir)} is not empty; choose a new directory for the demo's lab.");
            return ValidationResult.Success();
        }
    }

    /// <summary>How long to wait, after complete, for the prober to record a round with the final state.</summary>
    private static readonly TimeSpan AfterComplete = TimeSpan.FromSeconds(3);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        OutputFormats.TryParse(settings.Output, out var format);
        var time = TimeProvider.System;
        var dir = Path.GetFullPath(settings.Dir ?? Path.Combine(Path.GetTempPath(), "kube-ca-rotate-demo-" + Guid.NewGuid().ToString("N")[..8]));
        var log = format == OutputFormat.Json ? Console.Error : new ConsoleLineWriter(console);
        var controller = new LabController(log, time);
        LabTopology lab;
        try
        {
            lab = await controller.UpAsync(new LabUpOptions(dir, settings.ControlPlanes, settings.Workers, settings.Namespaces), cancellationToken);
        }
        catch when (settings.Dir is null)
        {
            // UpAsync has stopped whatever it started; the directory was the demo's own.
            TryRemove(dir);
            throw;
        }
        RotationOutcome? completed = null;
        string? adminKubeconfig = null;
        ExceptionDispatchInfo? failure = null;
        DateTimeOffset since = default;
        try
        {
            log.WriteLine($"Lab ready in {dir}: {lab.ControlPlanes.Count()} control planes, {lab.Workers.Count()} workers; the prober is running.");
            since = time.GetUtcNow();
            try
            {
                using var target = await TargetCluster.OpenAsync(Inventory.Load(lab.InventoryFile), ApiUse.Required, cancellationToken);
                var request = new RotationRequest { Cas = [.. new[] { CaKind.Cluster, CaKind.FrontProxy, CaKind.Etcd }.Select(ca => new CaRotationRequest(ca, new NewCaSource.Generate()))] };
                log.WriteLine("Rotating the cluster, front-proxy and etcd CAs: start ...");
                var started = await RotateStartCommand.RunAsync(console, format, request, await target.WithTrustGateAsync(cancellationToken), null, cancellationToken);
                if (format == OutputFormat.Table) RotationReport.WriteSummary(console, started);
                log.WriteLine("complete ...");
                completed = await RotateCompleteCommand.RunAsync(console, format, new FinishRequest(), await target.WithTrustGateAsync(cancellationToken), cancellationToken);
                if (format == OutputFormat.Table) RotationReport.WriteSummary(console, completed);
                if (completed.AdminKubeconfig is { } bytes)
                {
                    adminKubeconfig = AdminKubeconfigFile.DefaultPath(lab.Dir, completed.RotationId);
                    await AdminKubeconfigFile.WriteAsync(adminKubeconfig, bytes, cancellationToken);
                }
                await Task.Delay(AfterComplete, time, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The prober's report is what the demo is for: print it before the error.
                failure = ExceptionDispatchInfo.Capture(e);
            }

            var records = ProbeLog.Of(lab).Read().ToList();
            var report = ProbeReport.Build(records, since);
            var downtime = ProbeDowntime.Measure(records, since);
            Write(format, report, downtime, completed, adminKubeconfig, settings.Keep ? dir : null);
            failure?.Throw();
            return completed?.Phase == RotationPhase.Completed && report.TrustFailures == 0 ? ExitCodes.Ok : ExitCodes.ProblemsFound;
        }
        finally
        {
            if (!settings.Keep)
            {
                await controller.DownAsync(dir, CancellationToken.None);
                if (settings.Dir is null) TryRemove(dir);
            }
        }
    }

    private void Write(OutputFormat format, ProbeReport report, ProbeDowntime downtime, RotationOutcome? completed, string? adminKubeconfig, string? keptDir)
    {
        if (format == OutputFormat.Json)
        {
            var json = JsonSerializer.SerializeToNode(report, ProbeLog.JsonOptions)!.AsObject();
            json["rotationId"] = completed?.RotationId;
            json["phase"] = completed is null ? null : ProgressText.Phase(completed.Phase);
            json["downtimeSeconds"] = Math.Round(downtime.Longest.TotalSeconds, 3);
            json["downtimeKind"] = downtime.Kind is { } kind ? JsonNamingPolicy.CamelCase.ConvertName(kind.ToString()) : null;
            json["downtimeFrom"] = downtime.From;
            json["adminKubeconfig"] = adminKubeconfig;
            RawText.WriteLine(console, json.ToJsonString(new JsonSerializerOptions(ProbeLog.JsonOptions) { WriteIndented = true }));
            return;
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("EDGE KIND", "EDGES", "ATTEMPTS", "OK", "TRUST FAILURES", "AVAILABILITY FAILURES");
        foreach (var kind in report.Edges.GroupBy(e => e.Kind).OrderBy(g => g.Key))
            table.AddRow(JsonNamingPolicy.KebabCaseLower.ConvertName(kind.Key.ToString()), Count(kind.Count()), Count(kind.Sum(e => e.Attempts)), Count(kind.Sum(e => e.Ok)),
                kind.Sum(e => e.TrustFailures) is var t and > 0 ? $"[red]{Count(t)}[/]" : "0", Count(kind.Sum(e => e.AvailabilityFailures)));
        console.Write(table);
        console.MarkupLine($"Prober since the start: {Count(report.Attempts)} attempts on {Count(report.Edges.Count)} edges; " +
            $"[{(report.TrustFailures == 0 ? "green" : "red")}]{Count(report.TrustFailures)} trust failures[/], " +
            $"[{(report.EndpointFailures == 0 ? "green" : "red")}]{Count(report.EndpointFailures)} HA endpoint failures[/], {Count(report.AvailabilityFailures)} availability failures in all.");
        console.MarkupLine(downtime.Kind is { } down
            ? $"Downtime: [red]{downtime.Longest.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s[/] (every {JsonNamingPolicy.KebabCaseLower.ConvertName(down.ToString())} edge failing from {downtime.From:HH:mm:ss})."
            : "Downtime: [green]0 s[/] (no edge kind ever failed entirely).");
        foreach (var e in report.Edges.Where(e => e.TrustFailures > 0))
            console.MarkupLine($"  [red]trust failure[/] {Markup.Escape(e.Edge)}: {Markup.Escape(e.FirstFailure?.Error ?? "")}");
        if (completed is not null)
            console.MarkupLine($"Rotation {Markup.Escape(completed.RotationId)}: [bold]{ProgressText.Phase(completed.Phase)}[/].");
        if (adminKubeconfig is not null && keptDir is not null)
            console.MarkupLine($"The lab keeps running in {Markup.Escape(keptDir)}; kubectl --kubeconfig {Markup.Escape(adminKubeconfig)} get nodes; stop it with kube-ca-rotate lab down --dir {Markup.Escape(keptDir)}");
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static void TryRemove(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
