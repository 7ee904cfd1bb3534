namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The controller-manager stand-in's configuration, read from kube-controller-manager's flags as kubeadm writes them
/// (node paths mapped into the lab node's root at parse time), plus two lab-only knobs: how often the controllers
/// resync (--lab-sync-period, default 1 s) and the pause between rollout batches (--lab-rollout-pace, or the
/// environment variable <see cref="RolloutPaceVariable"/>, default 1 s). Unknown flags are kept in <see cref="IgnoredFlags"/>.
/// </summary>
public sealed record ControllerManagerOptions
{
    public const string RolloutPaceVariable = "KUBE_CA_ROTATE_LAB_ROLLOUT_PACE";

    public string? Kubeconfig { get; init; }
    /// <summary>Empty when the flag is given empty (the kubeconfig's CA data is published instead).</summary>
    public string? RootCaFile { get; init; }
    public string? ClusterSigningCertFile { get; init; }
    public string? ClusterSigningKeyFile { get; init; }
    public TimeSpan ClusterSigningDuration { get; init; } = TimeSpan.FromHours(8760);
    public string? ServiceAccountPrivateKeyFile { get; init; }
    public IReadOnlyList<string> Controllers { get; init; } = ["*"];
    public LeaderElectionSettings LeaderElection { get; init; } = LeaderElectionSettings.LabDefault;
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RolloutPace { get; init; } = TimeSpan.FromSeconds(1);
    public IReadOnlyList<string> IgnoredFlags { get; init; } = [];

    /// <summary>Parses the manifest's command (with or without "kube-controller-manager"). Throws one sentence for a value it cannot read.</summary>
    public static ControllerManagerOptions Parse(IReadOnlyList<string> args, Func<string, string> mapPath, string? paceFromEnvironment = null)
    {
        var o = new ControllerManagerOptions();
        if (!string.IsNullOrWhiteSpace(paceFromEnvironment))
            o = o with { RolloutPace = GoDuration.Parse(paceFromEnvironment, RolloutPaceVariable) };
        var ignored = new List<string>();
        string Map(string? value) => string.IsNullOrEmpty(value) ? "" : mapPath(value);
        foreach (var (name, value, arg) in ComponentFlags.Read(args))
        {
            string Required() => value ?? throw new ArgumentException($"The kube-controller-manager flag --{name} needs a value.");
            switch (name)
            {
                case "kubeconfig": o = o with { Kubeconfig = Map(Required()) }; break;
                case "root-ca-file": o = o with { RootCaFile = Map(value) }; break;
                case "cluster-signing-cert-file": o = o with { ClusterSigningCertFile = Map(value) }; break;
                case "cluster-signing-key-file": o = o with { ClusterSigningKeyFile = Map(value) }; break;
                case "cluster-signing-duration": o = o with { ClusterSigningDuration = GoDuration.Parse(Required(), name) }; break;
                case "service-account-private-key-file": o = o with { ServiceAccountPrivateKeyFile = Map(value) }; break;
                case "controllers": o = o with { Controllers = Required().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) }; break;
                case "leader-elect": o = o with { LeaderElection = o.LeaderElection with { Enabled = ComponentFlags.IsTrue(value) } }; break;
                case "leader-elect-lease-duration": o = o with { LeaderElection = o.LeaderElection with { LeaseDuration = GoDuration.Parse(Required(), name) } }; break;
                case "leader-elect-renew-deadline": o = o with { LeaderElection = o.LeaderElection with { RenewDeadline = GoDuration.Parse(Required(), name) } }; break;
                case "leader-elect-retry-period": o = o with { LeaderElection = o.LeaderElection with { RetryPeriod = GoDuration.Parse(Required(), name) } }; break;
                case "lab-sync-period": o = o with { SyncPeriod = GoDuration.Parse(Required(), name) }; break;
                case "lab-rollout-pace": o = o with { RolloutPace = GoDuration.Parse(Required(), name) }; break;
                default: ignored.Add(arg); break;
            }
        }
        return o with { IgnoredFlags = ignored };
    }

    /// <summary>Whether a controller runs under --controllers ("*" = the default set, "-name" disables, "name" enables).</summary>
    public bool Runs(string controller, bool onByDefault = true)
    {
        if (Controllers.Contains("-" + controller))
            return false;
        if (Controllers.Contains(controller))
            return true;
        return onByDefault && Controllers.Contains("*");
    }
}
