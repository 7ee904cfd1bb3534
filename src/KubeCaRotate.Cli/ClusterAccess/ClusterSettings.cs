using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.ClusterAccess;

/// <summary>
/// How every command that reads or rotates a cluster names it (verify, scan, plan, start, complete, rollback, status):
/// an inventory, or an admin kubeconfig whose Node objects give the nodes (reached over SSH with --ssh-user), and the
/// output format.
/// </summary>
public class ClusterSettings : NodeAccessSettings
{
    [CommandOption("--inventory <FILE>")]
    [Description("An inventory file (a lab writes DIR/inventory.yaml; `kube-ca-rotate inventory` writes a start): the nodes, how to reach them, the admin kubeconfig.")]
    public string? Inventory { get; init; }

    [CommandOption("-o|--output <FORMAT>")]
    [Description("table (default) or json.")]
    public string? Output { get; init; }

    public OutputFormat Format => OutputFormats.TryParse(Output, out var format) ? format : OutputFormat.Table;

    /// <summary>Whether the command needs the nodes' files (a rotation does; verify and scan can work from the API alone).</summary>
    protected virtual bool RequiresNodeAccess => true;

    public override ValidationResult Validate()
    {
        if (Inventory is null && Kubeconfig is null)
            return ValidationResult.Error("Pass --inventory FILE, or --kubeconfig FILE with --ssh-user USER to find the nodes from the API and reach them over SSH.");
        if (Inventory is not null && !File.Exists(Inventory))
            return ValidationResult.Error($"The inventory {Path.GetFullPath(Inventory)} does not exist; pass the path of an inventory file.");
        if (Inventory is not null && SshOptionsGiven.Count > 0)
            return ValidationResult.Error($"{Listed(SshOptionsGiven)} {(SshOptionsGiven.Count == 1 ? "applies" : "apply")} to nodes found with --kubeconfig alone; with --inventory, set each node's access.ssh in the inventory instead.");
        if (ValidateNodeAccess() is { } invalid) return invalid;
        if (Inventory is null && SshUser is null && RequiresNodeAccess)
            return ValidationResult.Error("This command reads and changes the nodes' files, so --kubeconfig needs node access: add --ssh-user USER (with --ssh-key, --known-hosts as needed) to reach the nodes over SSH, or pass --inventory FILE.");
        if (Inventory is null && SshUser is null && SshOptionsGiven.Count > 0)
            return ValidationResult.Error($"{Listed(SshOptionsGiven)} {(SshOptionsGiven.Count == 1 ? "needs" : "need")} --ssh-user USER to reach the nodes over SSH.");
        if (!OutputFormats.TryParse(Output, out _)) return ValidationResult.Error($"-o '{Output}' must be table or json.");
        return ValidationResult.Success();
    }

    private static string Listed(IReadOnlyList<string> options) =>
        options.Count == 1 ? options[0] : string.Join(", ", options.Take(options.Count - 1)) + " and " + options[^1];

    /// <summary>
    /// The cluster's inventory: the file (with --kubeconfig/--context overriding its own), or the one the API's Node
    /// objects give when --ssh-user says how to reach them; null when only the API is used (verify, scan).
    /// </summary>
    public async Task<Inventory?> InventoryAsync(CancellationToken ct)
    {
        if (Inventory is not null)
        {
            var inventory = Nodes.Inventory.Load(Inventory);
            if (Kubeconfig is not null) inventory.Cluster.Kubeconfig = Path.GetFullPath(Kubeconfig);
            if (Context is not null) inventory.Cluster.Context = Context;
            return inventory;
        }
        if (SshUser is null) return null;
        return (await DiscoverAsync(ct)).Complete();
    }
}
