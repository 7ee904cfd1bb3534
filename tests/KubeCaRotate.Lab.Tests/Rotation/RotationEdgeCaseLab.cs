namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// One single-control-plane lab (1 control plane + 1 worker, 2 namespaces) for the rotation's edge cases and the
/// cross-signed rotation (one lab for all of them: labs on this 2-core machine compete for CPU, so a second one would
/// only add its start and its idle load). A run meant
/// to meet a fault passes <see cref="WaitTimeout"/> so that its wait fails fast; the other runs keep the tool's default,
/// since a rollout or a restart can take longer than that on a loaded machine.
/// </summary>
public sealed class RotationEdgeCaseLab() : RotationLabFixture("kcr-edge-", controlPlanes: 1, workers: 1)
{
    public const string WaitTimeout = "30s";
}

[CollectionDefinition(Name)]
public sealed class RotationEdgeCaseLabCollection : ICollectionFixture<RotationEdgeCaseLab>
{
    public const string Name = "rotation edge-case lab";
}
