using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>The options of `plan` and `start`: which CAs, how, where each new CA comes from, and how fast; validated before anything is read.</summary>
public class RotationRequestSettings : RotationClusterSettings
{
    [CommandOption("--ca <LIST>")]
    [Description("The CAs to rotate, comma separated: cluster, front-proxy, etcd (default: all three).")]
    [DefaultValue("cluster,front-proxy,etcd")]
    public string Ca { get; init; } = "cluster,front-proxy,etcd";

    [CommandOption("--mode <MODE>")]
    [Description("rotate (a new key pair, default) or renew (same key pair, new validity: only the CA certificates are redistributed).")]
    [DefaultValue("rotate")]
    public string Mode { get; init; } = "rotate";

    [CommandOption("--until <PHASE>")]
    [Description("Stop after this phase: trusted (every component trusts old and new) or switched (default: everything uses the new CA; `complete` distrusts the old one).")]
    public string? Until { get; init; }

    [CommandOption("--cluster-ca-cert <FILE>")]
    [Description("Bring your own cluster CA certificate (PEM), e.g. an intermediate of your organisation's root.")]
    public string? ClusterCaCert { get; init; }

    [CommandOption("--cluster-ca-key <FILE>")]
    [Description("The private key of --cluster-ca-cert.")]
    public string? ClusterCaKey { get; init; }

    [CommandOption("--front-proxy-ca-cert <FILE>")]
    [Description("Bring your own front-proxy CA certificate (PEM).")]
    public string? FrontProxyCaCert { get; init; }

    [CommandOption("--front-proxy-ca-key <FILE>")]
    [Description("The private key of --front-proxy-ca-cert.")]
    public string? FrontProxyCaKey { get; init; }

    [CommandOption("--etcd-ca-cert <FILE>")]
    [Description("Bring your own etcd CA certificate (PEM).")]
    public string? EtcdCaCert { get; init; }

    [CommandOption("--etcd-ca-key <FILE>")]
    [Description("The private key of --etcd-ca-cert.")]
    public string? EtcdCaKey { get; init; }

    [CommandOption("--cross-sign")]
    [Description("Also sign each new CA with its old one, so clients that trust only the old CA accept new-chain servers: from the switch until complete, apiserver.crt and etcd's server.crt and peer.crt hold the leaf followed by the cross-signed new CA.")]
    public bool CrossSign { get; init; }

    [CommandOption("--ca-validity <DURATION>")]
    [Description("Validity of a generated or renewed CA, e.g. 10y, 87600h (default 10y, as kubeadm).")]
    public string? CaValidity { get; init; }

    [CommandOption("--leaf-validity <DURATION>")]
    [Description("Validity of the leaves the new CA will sign; the new CA must outlive leaves issued now (default 1y, as kubeadm).")]
    public string? LeafValidity { get; init; }

    [CommandOption("--kubelet-parallelism <N>")]
    [Description("How many kubelets restart at once, a wave, after the first one, which restarts alone as a canary (default 5). Running pods are not touched by a kubelet restart.")]
    [DefaultValue(RotationRequest.DefaultKubeletParallelism)]
    public int KubeletParallelism { get; init; } = RotationRequest.DefaultKubeletParallelism;

    [CommandOption("--workload-parallelism <N>")]
    [Description("How many workloads roll at once (default 4).")]
    [DefaultValue(4)]
    public int WorkloadParallelism { get; init; } = 4;

    /// <summary>The chosen CAs in the order given, each once.</summary>
    public IReadOnlyList<CaKind> Cas => Ca.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(c => c switch { "front-proxy" => CaKind.FrontProxy, "etcd" => CaKind.Etcd, _ => CaKind.Cluster }).Distinct().ToList();

    private IEnumerable<(string Option, CaKind Ca, string? Cert, string? Key)> Brought =>
    [
        ("--cluster-ca", CaKind.Cluster, ClusterCaCert, ClusterCaKey),
        ("--front-proxy-ca", CaKind.FrontProxy, FrontProxyCaCert, FrontProxyCaKey),
        ("--etcd-ca", CaKind.Etcd, EtcdCaCert, EtcdCaKey),
    ];

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        if (!common.Successful) return common;
        if (Mode is not ("rotate" or "renew")) return ValidationResult.Error($"--mode '{Mode}' must be rotate or renew.");
        if (Until is not (null or "trusted" or "switched")) return ValidationResult.Error($"--until '{Until}' must be trusted or switched.");
        var names = Ca.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) return ValidationResult.Error("--ca names no CA; pass one or more of cluster, front-proxy, etcd.");
        foreach (var ca in names)
            if (ca is not ("cluster" or "front-proxy" or "etcd")) return ValidationResult.Error($"--ca '{ca}' is not one of cluster, front-proxy, etcd.");
        foreach (var (option, ca, cert, key) in Brought)
        {
            if ((cert is null) != (key is null)) return ValidationResult.Error($"Pass {option}-cert and {option}-key together.");
            if (cert is null) continue;
            if (Mode == "renew") return ValidationResult.Error($"--mode renew keeps each CA's key pair, so {option}-cert cannot be used with it.");
            if (!Cas.Contains(ca)) return ValidationResult.Error($"{option}-cert brings a {RotationPaths.Name(ca)} but --ca '{Ca}' does not rotate it; add it to --ca or drop {option}-cert.");
        }
        if (CrossSign && Mode == "renew") return ValidationResult.Error("--cross-sign has no meaning with --mode renew: a renewed CA keeps its key pair, so the old CA's clients already accept it.");
        if (CaValidity is not null && !(DurationOption.TryParse(CaValidity, out var caValidity) && caValidity > TimeSpan.Zero))
            return ValidationResult.Error($"--ca-validity '{CaValidity}' is not a duration such as 10y or 87600h.");
        if (LeafValidity is not null && !(DurationOption.TryParse(LeafValidity, out var leafValidity) && leafValidity > TimeSpan.Zero))
            return ValidationResult.Error($"--leaf-validity '{LeafValidity}' is not a duration such as 1y or 8760h.");
        if (KubeletParallelism < 1) return ValidationResult.Error($"--kubelet-parallelism {KubeletParallelism} must be at least 1.");
        if (WorkloadParallelism < 1) return ValidationResult.Error($"--workload-parallelism {WorkloadParallelism} must be at least 1.");
        return ValidationResult.Success();
    }

    /// <summary>The library's request; a brought CA's files are read here (a missing file is a <see cref="UsageException"/>).</summary>
    public async Task<RotationRequest> ToRequestAsync(bool dryRun, CancellationToken ct)
    {
        var cas = new List<CaRotationRequest>();
        foreach (var ca in Cas)
        {
            var (_, _, cert, key) = Brought.Single(b => b.Ca == ca);
            var source = cert is null
                ? (NewCaSource)new NewCaSource.Generate()
                : new NewCaSource.BringYourOwn(await ReadAsync(cert, ct), Path.GetFullPath(cert), await ReadAsync(key!, ct), Path.GetFullPath(key!));
            var request = new CaRotationRequest(ca, source, CrossSign);
            if (CaValidity is not null && DurationOption.TryParse(CaValidity, out var caValidity)) request = request with { CaValidity = caValidity };
            if (LeafValidity is not null && DurationOption.TryParse(LeafValidity, out var leafValidity)) request = request with { LeafValidity = leafValidity };
            cas.Add(request);
        }
        return new RotationRequest
        {
            Cas = cas,
            Mode = Mode == "renew" ? RotationMode.Renew : RotationMode.Rotate,
            DryRun = dryRun,
            KubeletParallelism = KubeletParallelism,
            WorkloadParallelism = WorkloadParallelism,
            Until = Until == "trusted" ? RotationPhase.Trusted : RotationPhase.Switched,
        };
    }

    private static async Task<string> ReadAsync(string path, CancellationToken ct) =>
        File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : throw new UsageException($"{Path.GetFullPath(path)} does not exist; pass the path of a PEM file.");
}
