using System.ComponentModel;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Topology;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

/// <summary>The lab's node agent (kubelet stand-in): started by `lab up` and `lab restart-kubelet`, one per node, detached. Not for people.</summary>
public sealed class LabAgentCommand : AsyncCommand<LabAgentCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("--node <NAME>")]
        [Description("The node this agent is the kubelet of.")]
        public string Node { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var shutdown = new ShutdownSignal(cancellationToken);
        var lab = LabTopology.Load(settings.Dir);
        var node = lab.Node(settings.Node);
        Console.Out.WriteLine($"{DateTimeOffset.UtcNow:O} node agent for {node.Name} starting (pid {Environment.ProcessId})");
        await new KubeletAgent(lab, node, Console.Out, TimeProvider.System).RunAsync(shutdown.Token);
        Console.Out.WriteLine($"{DateTimeOffset.UtcNow:O} node agent for {node.Name} stopped");
        return ExitCodes.Ok;
    }
}
