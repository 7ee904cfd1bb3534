using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>The options of `complete` and `rollback`: the CAs and mode come from the journal, so only how, how fast and whether to ask.</summary>
public class FinishSettings : RotationClusterSettings
{
    [CommandOption("--dry-run")]
    [Description("Run every check and show every change it would make; change nothing.")]
    public bool DryRun { get; init; }

    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (needed when the console cannot ask, e.g. in a script).")]
    public bool Yes { get; init; }

    [CommandOption("--kubelet-parallelism <N>")]
    [Description("How many kubelets restart at once, a wave, after the first one, which restarts alone as a canary (default 5). Running pods are not touched by a kubelet restart.")]
    [DefaultValue(KubeCaRotate.Rotation.RotationRequest.DefaultKubeletParallelism)]
    public int KubeletParallelism { get; init; } = KubeCaRotate.Rotation.RotationRequest.DefaultKubeletParallelism;

    [CommandOption("--workload-parallelism <N>")]
    [Description("How many workloads roll at once (default 4).")]
    [DefaultValue(4)]
    public int WorkloadParallelism { get; init; } = 4;

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        if (!common.Successful) return common;
        if (KubeletParallelism < 1) return ValidationResult.Error($"--kubelet-parallelism {KubeletParallelism} must be at least 1.");
        if (WorkloadParallelism < 1) return ValidationResult.Error($"--workload-parallelism {WorkloadParallelism} must be at least 1.");
        return ValidationResult.Success();
    }

    public KubeCaRotate.Rotation.FinishRequest ToRequest() =>
        new() { DryRun = DryRun, KubeletParallelism = KubeletParallelism, WorkloadParallelism = WorkloadParallelism };
}

/// <summary>`complete`'s options: where the operator's new admin kubeconfig goes.</summary>
public sealed class RotateCompleteSettings : FinishSettings
{
    [CommandOption("--admin-kubeconfig-out <FILE>")]
    [Description("Where to write the new admin kubeconfig (0600; it holds a private key). Default: admin-<rotation id>.conf next to the inventory.")]
    public string? AdminKubeconfigOut { get; init; }

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        if (!common.Successful) return common;
        if (AdminKubeconfigOut is not null)
        {
            var full = Path.GetFullPath(AdminKubeconfigOut);
            if (Directory.Exists(full)) return ValidationResult.Error($"--admin-kubeconfig-out {full} is a directory; pass a file name.");
            if (!Directory.Exists(Path.GetDirectoryName(full))) return ValidationResult.Error($"The directory of --admin-kubeconfig-out {full} does not exist; create it or choose another file.");
        }
        return ValidationResult.Success();
    }
}
