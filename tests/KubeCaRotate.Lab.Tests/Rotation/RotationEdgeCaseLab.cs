namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// One single-control-plane lab (1 control plane + 1 worker, 2 namespaces) for the rotation's edge cases. A run meant
/// to meet a fault passes <see cref="WaitTimeout"/> so that its wait fails fast; the other runs keep the tool's default,
/// since a rollout or a restart can take longer than that on a loaded machine.
/// </summary>
public sealed class RotationEdgeCaseLab() : RotationLabFixture("kcr-edge-", controlPlanes: 1, workers: 1)
{
    public const string WaitTimeout = "30s";
}
