using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>`kube-ca-rotate plan`: the steps of the next phase in order, with their procedure rows and changes; changes nothing.</summary>
public sealed class RotatePlanCommand(IAnsiConsole console) : AsyncCommand<RotatePlanCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--inventory <FILE>")]
        [Description("An inventory file (a lab writes DIR/inventory.yaml): the nodes and how to reach them.")]
        public string? Inventory { get; init; }

        [CommandOption("--ca <LIST>")]
        [Description("The CAs to rotate, comma separated: cluster (front-proxy and etcd are not built yet).")]
        [DefaultValue("cluster")]
        public string Ca { get; init; } = "cluster";

        [CommandOption("--mode <MODE>")]
        [Description("rotate (a new key pair, default) or renew (same key pair, new validity).")]
        [DefaultValue("rotate")]
        public string Mode { get; init; } = "rotate";

        [CommandOption("--cluster-ca-cert <FILE>")]
        [Description("Bring your own cluster CA certificate (PEM), e.g. an intermediate of your organisation's root.")]
        public string? ClusterCaCert { get; init; }

        [CommandOption("--cluster-ca-key <FILE>")]
        [Description("The private key of --cluster-ca-cert.")]
        public string? ClusterCaKey { get; init; }

        [CommandOption("--cross-sign")]
        [Description("Also sign the new CA with the old one, so clients that trust only the old CA accept new-chain servers.")]
        public bool CrossSign { get; init; }

        [CommandOption("--kubelet-parallelism <N>")]
        [Description("How many kubelets restart at once (default 1).")]
        [DefaultValue(1)]
        public int KubeletParallelism { get; init; } = 1;

        [CommandOption("-o|--output <FORMAT>")]
        [Description("table (default) or json.")]
        public string? Output { get; init; }

        public override ValidationResult Validate()
        {
            if (Inventory is null) return ValidationResult.Error("Pass --inventory FILE (a lab writes DIR/inventory.yaml).");
            if (!OutputFormats.TryParse(Output, out _)) return ValidationResult.Error($"-o '{Output}' must be table or json.");
            if (Mode is not ("rotate" or "renew")) return ValidationResult.Error($"--mode '{Mode}' must be rotate or renew.");
            if ((ClusterCaCert is null) != (ClusterCaKey is null)) return ValidationResult.Error("Pass --cluster-ca-cert and --cluster-ca-key together.");
            if (ClusterCaCert is not null && Mode == "renew") return ValidationResult.Error("--mode renew keeps the CA's key pair, so --cluster-ca-cert cannot be used with it.");
            if (KubeletParallelism < 1) return ValidationResult.Error($"--kubelet-parallelism {KubeletParallelism} must be at least 1.");
            foreach (var ca in Ca.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (ca is not ("cluster" or "front-proxy" or "etcd")) return ValidationResult.Error($"--ca '{ca}' is not one of cluster, front-proxy, etcd.");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var inventory = Inventory.Load(settings.Inventory!);
        var source = settings.ClusterCaCert is null
            ? (NewCaSource)new NewCaSource.Generate()
            : new NewCaSource.BringYourOwn(await ReadAsync(settings.ClusterCaCert), Path.GetFullPath(settings.ClusterCaCert), await ReadAsync(settings.ClusterCaKey!), Path.GetFullPath(settings.ClusterCaKey!));
        var cas = settings.Ca.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => new CaRotationRequest(c switch { "front-proxy" => CaKind.FrontProxy, "etcd" => CaKind.Etcd, _ => CaKind.Cluster }, source, settings.CrossSign))
            .ToList();
        var request = new RotationRequest
        {
            Cas = cas, Mode = settings.Mode == "renew" ? RotationMode.Renew : RotationMode.Rotate, KubeletParallelism = settings.KubeletParallelism,
        };
        var paths = new RotationPaths(new Layout.KubeadmPaths { KubernetesDir = inventory.Cluster.KubernetesDir, CertificatesDir = inventory.Cluster.KubernetesDir.TrimEnd('/') + "/pki", KubeletDir = inventory.Cluster.KubeletDir });
        RotationOutcome plan;
        try
        {
            plan = await CaRotation.PlanAsync(request, new RotationCluster(RotationNodes.FromInventory(inventory), paths), cancellationToken);
        }
        catch (RotationException e)
        {
            // A plan changes nothing, so whatever stops it is about the input or the cluster's current files.
            throw new UsageException(e.Message);
        }

        if (OutputFormats.TryParse(settings.Output, out var format) && format == OutputFormat.Json)
        {
            RawText.WriteLine(console, Json.Serialize(new { plan.Phase, plan.Cas, plan.Steps, plan.JournalCopies }));
            return ExitCodes.Ok;
        }

        foreach (var copy in plan.JournalCopies.Where(c => c.Detail is not null))
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(copy.Detail!)}");
        var table = new Table().AddColumns("#", "Step", "Procedure", "Node", "Batch", "State", "Changes");
        var n = 0;
        foreach (var step in plan.Steps)
        {
            table.AddRow(
                (++n).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(step.Name), Markup.Escape(string.Join(", ", step.ProcedureRows)),
                Markup.Escape(step.Node), Markup.Escape(step.Batch),
                step.Outcome switch { StepOutcome.Planned => "to do", StepOutcome.AlreadyDone => "already done", _ => "done" },
                Markup.Escape(string.Join("\n", step.Changes.Select(c => c.StartsWith(step.Node + ": ", StringComparison.Ordinal) ? c[(step.Node.Length + 2)..] : c))));
        }
        console.Write(table);
        var ca = plan.Cas.Single();
        console.MarkupLine($"Phase after these steps: [bold]{plan.Phase.ToString().ToLowerInvariant()}[/]. New {RotationPaths.Name(ca.Ca)}: sha256 {ca.NewSha256[..16]}… (made at start; a plan stages nothing). Nothing was changed.");
        return ExitCodes.Ok;
    }

    private static async Task<string> ReadAsync(string path) =>
        File.Exists(path) ? await File.ReadAllTextAsync(path) : throw new UsageException($"{Path.GetFullPath(path)} does not exist; pass the path of a PEM file.");
}
