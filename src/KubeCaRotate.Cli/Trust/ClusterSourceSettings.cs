using System.ComponentModel;
using KubeCaRotate.Cli.ClusterAccess;
using KubeCaRotate.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Trust;

/// <summary>
/// How verify and scan reach a cluster (<see cref="ClusterSettings"/>): with --kubeconfig and no --ssh-user they read
/// the API alone, and the nodes' files are not read.
/// </summary>
public class ClusterSourceSettings : ClusterSettings
{
    [CommandOption("--at <TIME>")]
    [Description("Evaluate validity at this time (ISO 8601, e.g. 2030-01-01T00:00:00Z) instead of now.")]
    public string? At { get; init; }

    protected override bool RequiresNodeAccess => false;

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        if (!common.Successful) return common;
        if (At is not null && !DateTimeOffset.TryParse(At, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out _))
            return ValidationResult.Error($"--at '{At}' is not a time such as 2030-01-01T00:00:00Z.");
        return ValidationResult.Success();
    }

    public DateTimeOffset? AtTime => At is null ? null : DateTimeOffset.Parse(At, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

    /// <summary>Reads the cluster the options describe.</summary>
    public async Task<ClusterSnapshot> ReadAsync(CancellationToken ct)
    {
        var reader = new ClusterReader(TimeProvider.System);
        if (await InventoryAsync(ct) is { } inventory) return await reader.ReadAsync(inventory, null, null, null, ct);
        return await reader.ReadAsync([], Kubeconfig, Context, null, null, ct);
    }

    public static void WriteProblems(IAnsiConsole console, IEnumerable<string> problems)
    {
        foreach (var p in problems) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(p)}");
    }
}
