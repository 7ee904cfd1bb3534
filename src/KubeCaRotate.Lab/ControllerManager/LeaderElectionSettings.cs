namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// client-go leader election timing (--leader-elect-lease-duration, --leader-elect-renew-deadline,
/// --leader-elect-retry-period). The lab's defaults are shorter than the real 15 s / 10 s / 2 s so that a stopped
/// leader is replaced within a few seconds; the real flags override them.
/// </summary>
public sealed record LeaderElectionSettings(bool Enabled, TimeSpan LeaseDuration, TimeSpan RenewDeadline, TimeSpan RetryPeriod)
{
    public static readonly LeaderElectionSettings LabDefault = new(true, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1));
}
