using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>The options every rotation command shares: which cluster (an inventory) and the output format.</summary>
public class RotationClusterSettings : CommandSettings
{
    [CommandOption("--inventory <FILE>")]
    [Description("An inventory file (a lab writes DIR/inventory.yaml): the nodes and how to reach them.")]
    public string? Inventory { get; init; }

    [CommandOption("-o|--output <FORMAT>")]
    [Description("table (default) or json.")]
    public string? Output { get; init; }

    public OutputFormat Format => OutputFormats.TryParse(Output, out var format) ? format : OutputFormat.Table;

    public override ValidationResult Validate()
    {
        if (Inventory is null) return ValidationResult.Error("Pass --inventory FILE (a lab writes DIR/inventory.yaml).");
        if (!File.Exists(Inventory)) return ValidationResult.Error($"The inventory {Path.GetFullPath(Inventory)} does not exist; pass the path of an inventory file.");
        if (!OutputFormats.TryParse(Output, out _)) return ValidationResult.Error($"-o '{Output}' must be table or json.");
        return ValidationResult.Success();
    }
}
