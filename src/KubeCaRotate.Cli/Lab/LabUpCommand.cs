using System.ComponentModel;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Pki;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

public sealed class LabUpCommand(IAnsiConsole console) : AsyncCommand<LabUpCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("Directory for the lab (default ./.lab); must be new or empty.")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("--control-planes <N>")]
        [Description("Control-plane nodes, each with etcd and an API server (default 3).")]
        [DefaultValue(3)]
        public int ControlPlanes { get; init; } = 3;

        [CommandOption("--workers <M>")]
        [Description("Worker nodes (default 2).")]
        [DefaultValue(2)]
        public int Workers { get; init; } = 2;

        [CommandOption("--namespaces <K>")]
        [Description("Application namespaces, each with a service account, a legacy token Secret and a Deployment (default 3).")]
        [DefaultValue(3)]
        public int Namespaces { get; init; } = 3;

        [CommandOption("--algorithm <ALG>")]
        [Description("Key algorithm of every key in the lab (default ECDSA-P256; kubeadm's default RSA-2048 is slower to generate).")]
        public string? Algorithm { get; init; }

        public override ValidationResult Validate() =>
            KeyAlgorithms.TryParse(Algorithm ?? "ECDSA-P256", out _)
                ? ValidationResult.Success()
                : ValidationResult.Error($"--algorithm '{Algorithm}' is not one of {string.Join(", ", KeyAlgorithms.KubeadmNames)}.");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new LabUpOptions(settings.Dir, settings.ControlPlanes, settings.Workers, settings.Namespaces, KeyAlgorithms.Parse(settings.Algorithm ?? "ECDSA-P256"));
        var started = DateTimeOffset.UtcNow;
        var lab = await new LabController(new ConsoleLineWriter(console), TimeProvider.System).UpAsync(options, cancellationToken);
        console.MarkupLine($"[green]Lab ready[/] in {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0} s: {lab.ControlPlanes.Count()} control planes, {lab.Workers.Count()} workers, endpoint {lab.EndpointUrl}");
        console.MarkupLine($"  kubectl --kubeconfig {Markup.Escape(lab.AdminKubeconfig)} get nodes");
        console.MarkupLine($"  inventory: {Markup.Escape(lab.InventoryFile)}");
        return ExitCodes.Ok;
    }
}
