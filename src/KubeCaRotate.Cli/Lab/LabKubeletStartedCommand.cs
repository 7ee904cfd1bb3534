using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Topology;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

/// <summary>
/// `lab kubelet-started`: the lab's `systemctl show kubelet --property=ActiveState --property=ActiveEnterTimestamp`,
/// printing whether the node's kubelet runs and when it last started as systemd does (the inventory's kubeletStartedAt
/// command prints the same).
/// </summary>
public sealed class LabKubeletStartedCommand(IAnsiConsole console) : Command<LabKubeletStartedCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("The lab's directory (default ./.lab).")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("--node <NAME>")]
        [Description("The node whose kubelet's start to print.")]
        public string Node { get; init; } = "";

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Node) ? ValidationResult.Error("--node is required: name the node whose kubelet's start to print.") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        RawText.WriteLine(console, KubeletStartedAt.Show(LabTopology.Load(settings.Dir), settings.Node, TimeProvider.System));
        return ExitCodes.Ok;
    }
}
