using System.ComponentModel;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>`start`'s options: those of `plan`, and whether to change anything and to ask first.</summary>
public sealed class RotateStartSettings : RotationRequestSettings
{
    [CommandOption("--dry-run")]
    [Description("Run every check and show every change the run would make; change nothing.")]
    public bool DryRun { get; init; }

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (needed when the console cannot ask, e.g. in a script).")]
    public bool Yes { get; init; }
}
