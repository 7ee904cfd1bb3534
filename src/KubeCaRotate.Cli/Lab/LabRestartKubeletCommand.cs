using System.ComponentModel;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Topology;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

/// <summary>`lab restart-kubelet`: the lab's `systemctl restart kubelet` (the inventory's restartKubelet command).</summary>
public sealed class LabRestartKubeletCommand(IAnsiConsole console) : AsyncCommand<LabRestartKubeletCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("The lab's directory (default ./.lab).")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("--node <NAME>")]
        [Description("The node whose kubelet to restart.")]
        public string Node { get; init; } = "";

        [CommandOption("--renew-client-cert")]
        [Description("Also make the new kubelet renew its client certificate through a CSR, and wait until it has.")]
        public bool RenewClientCert { get; init; }

        [CommandOption("--timeout <SECONDS>")]
        [Description("How long to wait for the kubelet to report its node Ready again (default 60).")]
        public int TimeoutSeconds { get; init; } = 60;

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Node) ? ValidationResult.Error("--node is required: name the node whose kubelet to restart.")
            : TimeoutSeconds <= 0 ? ValidationResult.Error("--timeout must be a positive number of seconds.")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var lab = LabTopology.Load(settings.Dir);
        var result = await new KubeletRestart(lab, TimeProvider.System)
            .RunAsync(settings.Node, settings.RenewClientCert, TimeSpan.FromSeconds(settings.TimeoutSeconds), cancellationToken);
        var old = result.OldPid is { } pid ? $"stopped pid {pid}, " : "no kubelet was running, ";
        console.MarkupLine(Markup.Escape($"kubelet on {result.Node}: {old}started pid {result.NewPid}; node {result.Node} reported Ready at {result.ReadyAt:O}; static pods kept running."));
        if (settings.RenewClientCert)
            console.MarkupLine(Markup.Escape($"client certificate: {result.ClientCertificateBefore ?? "embedded"} -> {result.ClientCertificateAfter}"));
        return ExitCodes.Ok;
    }
}
