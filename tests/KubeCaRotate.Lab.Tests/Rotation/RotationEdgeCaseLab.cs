namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// One single-control-plane lab (1 control plane + 1 worker, 2 namespaces) for the rotation's edge cases; each wait of
/// a run (a component back after its restart, a rollout) ends after <see cref="WaitTimeout"/>, so a fault fails fast.
/// </summary>
public sealed class RotationEdgeCaseLab() : RotationLabFixture("kcr-edge-", controlPlanes: 1, workers: 1, waitTimeout: WaitTimeout)
{
    public const string WaitTimeout = "30s";
}
