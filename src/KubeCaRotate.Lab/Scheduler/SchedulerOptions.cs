using KubeCaRotate.Lab.ControllerManager;

namespace KubeCaRotate.Lab.Scheduler;

/// <summary>
/// The scheduler stand-in's configuration from kube-scheduler's flags as kubeadm writes them (--kubeconfig mapped into
/// the node root, leader election flags), plus the lab-only --lab-sync-period (how often it looks for pending pods,
/// default 500 ms). Unknown flags are kept in <see cref="IgnoredFlags"/>.
/// </summary>
public sealed record SchedulerOptions
{
    public string? Kubeconfig { get; init; }
    public LeaderElectionSettings LeaderElection { get; init; } = LeaderElectionSettings.LabDefault;
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromMilliseconds(500);
    public string SchedulerName { get; init; } = "default-scheduler";
    public IReadOnlyList<string> IgnoredFlags { get; init; } = [];

    public static SchedulerOptions Parse(IReadOnlyList<string> args, Func<string, string> mapPath)
    {
        var o = new SchedulerOptions();
        var ignored = new List<string>();
        foreach (var (name, value, arg) in ComponentFlags.Read(args))
        {
            string Required() => value ?? throw new ArgumentException($"The kube-scheduler flag --{name} needs a value.");
            switch (name)
            {
                case "kubeconfig": o = o with { Kubeconfig = mapPath(Required()) }; break;
                case "leader-elect": o = o with { LeaderElection = o.LeaderElection with { Enabled = ComponentFlags.IsTrue(value) } }; break;
                case "leader-elect-lease-duration": o = o with { LeaderElection = o.LeaderElection with { LeaseDuration = GoDuration.Parse(Required(), name) } }; break;
                case "leader-elect-renew-deadline": o = o with { LeaderElection = o.LeaderElection with { RenewDeadline = GoDuration.Parse(Required(), name) } }; break;
                case "leader-elect-retry-period": o = o with { LeaderElection = o.LeaderElection with { RetryPeriod = GoDuration.Parse(Required(), name) } }; break;
                case "lab-sync-period": o = o with { SyncPeriod = GoDuration.Parse(Required(), name) }; break;
                default: ignored.Add(arg); break;
            }
        }
        return o with { IgnoredFlags = ignored };
    }
}
