namespace KubeCaRotate.Rotation;

/// <summary>
/// The work before and between a run's steps that can take a while without a step to show: the operator sees which
/// one is under way instead of a silent command.
/// </summary>
public enum RunStage
{
    /// <summary>The inventory's nodes are opened and the Kubernetes API is reached (the CLI, before anything else).</summary>
    OpeningNodes,

    /// <summary>The dry run of the phase: every read-only check, the steps and their changes (the CLI, before asking).</summary>
    Planning,

    /// <summary>The run's cluster-wide Lease is taken, so a second run refuses to start.</summary>
    TakingLock,

    /// <summary>Every node file and the API objects that carry CA data are read for the trust model that gates each step.</summary>
    ReadingCluster,

    /// <summary>complete proves that nothing in use depends on the old CAs before it distrusts them.</summary>
    ProvingOldCaUnused,
}
