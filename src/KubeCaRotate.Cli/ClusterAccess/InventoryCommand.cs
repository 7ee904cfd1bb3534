using System.ComponentModel;
using System.Text;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.ClusterAccess;

/// <summary>
/// `kube-ca-rotate inventory`: the inventory the API's Node objects give, as YAML, for the operator to review, edit
/// (restart commands, a node's address) and pass with --inventory. Changes nothing in the cluster.
/// </summary>
public sealed class InventoryCommand(IAnsiConsole console) : AsyncCommand<InventoryCommand.Settings>
{
    public sealed class Settings : NodeAccessSettings
    {
        [CommandOption("-o|--output <FILE>")]
        [Description("Write the inventory to this file (default: standard output). An existing file is kept unless --force.")]
        public string? OutputFile { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite the --output file if it exists.")]
        public bool Force { get; init; }

        public override ValidationResult Validate()
        {
            if (Kubeconfig is null) return ValidationResult.Error("Pass --kubeconfig FILE: the nodes are listed from the API with it.");
            if (ValidateNodeAccess() is { } invalid) return invalid;
            if (OutputFile is not null)
            {
                var full = Path.GetFullPath(OutputFile);
                if (Directory.Exists(full)) return ValidationResult.Error($"--output {full} is a directory; pass a file name.");
                if (!Directory.Exists(Path.GetDirectoryName(full))) return ValidationResult.Error($"The directory of --output {full} does not exist; create it or choose another file.");
                if (File.Exists(full) && !Force) return ValidationResult.Error($"{full} already exists; pass --force to overwrite it, or choose another file.");
            }
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var discovered = await settings.DiscoverAsync(cancellationToken);
        var text = Header(discovered, settings) + discovered.Inventory.ToYaml();
        if (settings.OutputFile is null)
        {
            RawText.WriteLine(console, text.TrimEnd('\n'));
            return ExitCodes.Ok;
        }
        var full = Path.GetFullPath(settings.OutputFile);
        await using (var stream = new FileStream(full, settings.Force ? FileMode.Create : FileMode.CreateNew, FileAccess.Write))
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        var inventory = discovered.Inventory;
        console.MarkupLine(Markup.Escape($"Wrote {full}: {inventory.ControlPlanes.Count()} control-plane and {inventory.Nodes.Count - inventory.ControlPlanes.Count()} worker nodes. Review it, then pass it with --inventory."));
        if (discovered.NodesWithoutAddress.Count > 0)
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(DiscoveredInventory.WithoutAddressMessage(discovered.NodesWithoutAddress))}");
        return ExitCodes.Ok;
    }

    /// <summary>YAML comments: where the inventory came from, what to review, and which nodes need an address written in.</summary>
    private static string Header(DiscoveredInventory discovered, Settings settings)
    {
        var lines = new StringBuilder();
        lines.Append("# Found from the API with the kubeconfig ").Append(discovered.Inventory.Cluster.Kubeconfig)
            .Append(settings.Context is null ? "" : $" (context {settings.Context})").Append('\n');
        lines.Append("# Review each node's role and access.ssh; add restartKubelet, restartStaticPod or kubeletStartedAt where systemd and the defaults do not fit (see the README).\n");
        foreach (var node in discovered.NodesWithoutAddress)
            lines.Append("# Node ").Append(node).Append(" reports no address in the API: set its access.ssh.host.\n");
        return lines.ToString();
    }
}
