using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Cluster;
using KubeCaRotate.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Trust;

/// <summary>How verify and scan reach a cluster: an inventory (nodes and kubeconfig), or a kubeconfig and context.</summary>
public class ClusterSourceSettings : CommandSettings
{
    [CommandOption("--inventory <FILE>")]
    [Description("An inventory file (a lab writes DIR/inventory.yaml): nodes, how to reach them, the admin kubeconfig.")]
    public string? Inventory { get; init; }

    [CommandOption("--kubeconfig <FILE>")]
    [Description("An admin kubeconfig (overrides the inventory's). Without --inventory, nodes come from the API and their files are not read.")]
    public string? Kubeconfig { get; init; }

    [CommandOption("--context <NAME>")]
    [Description("The kubeconfig context (default: its current context).")]
    public string? Context { get; init; }

    [CommandOption("-o|--output <FORMAT>")]
    [Description("table (default) or json.")]
    public string? Output { get; init; }

    [CommandOption("--at <TIME>")]
    [Description("Evaluate validity at this time (ISO 8601, e.g. 2030-01-01T00:00:00Z) instead of now.")]
    public string? At { get; init; }

    public override ValidationResult Validate()
    {
        if (Inventory is null && Kubeconfig is null) return ValidationResult.Error("Pass --inventory FILE or --kubeconfig FILE.");
        if (!OutputFormats.TryParse(Output, out _)) return ValidationResult.Error($"-o '{Output}' must be table or json.");
        if (At is not null && !DateTimeOffset.TryParse(At, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out _))
            return ValidationResult.Error($"--at '{At}' is not a time such as 2030-01-01T00:00:00Z.");
        return ValidationResult.Success();
    }

    public DateTimeOffset? AtTime => At is null ? null : DateTimeOffset.Parse(At, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

    public OutputFormat Format => OutputFormats.TryParse(Output, out var f) ? f : OutputFormat.Table;

    /// <summary>Reads the cluster the options describe.</summary>
    public async Task<ClusterSnapshot> ReadAsync(CancellationToken ct)
    {
        var reader = new ClusterReader(TimeProvider.System);
        if (Inventory is not null)
        {
            var inventory = Nodes.Inventory.Load(Inventory);
            return await reader.ReadAsync(inventory, Kubeconfig, Context, null, ct);
        }
        if (!File.Exists(Kubeconfig)) throw new UsageException($"The kubeconfig {Path.GetFullPath(Kubeconfig!)} does not exist; pass the path of an admin kubeconfig.");
        return await reader.ReadAsync([], Kubeconfig, Context, null, null, ct);
    }

    public static void WriteProblems(IAnsiConsole console, IEnumerable<string> problems)
    {
        foreach (var p in problems) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(p)}");
    }
}
