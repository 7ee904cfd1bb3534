using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>What the operator asked for (the CLI fills it from its options; tests fill it directly).</summary>
public sealed record RotationRequest
{
    /// <summary>The CAs to rotate, each with its source; today only <see cref="CaKind.Cluster"/> has steps.</summary>
    public required IReadOnlyList<CaRotationRequest> Cas { get; init; }

    public RotationMode Mode { get; init; } = RotationMode.Rotate;

    /// <summary>Run over dry-run nodes: every check and read runs, nothing changes, the changes are reported.</summary>
    public bool DryRun { get; init; }

    /// <summary>How many kubelets restart at once (a wave).</summary>
    public int KubeletParallelism { get; init; } = 1;
}

/// <summary>The cluster as the rotation reaches it.</summary>
public sealed record RotationCluster(RotationNodes Nodes, RotationPaths Paths)
{
    /// <summary>Asked before every step (the Trust part's what-if); <see cref="KubeadmLayoutGate"/> is always asked too.</summary>
    public ITrustGate? TrustGate { get; init; }

    /// <summary>Watches restarts come back (the Cluster part); without it a real run stops at the first restart.</summary>
    public IRestartObserver? Restarts { get; init; }

    public CertificateIssuer Issuer { get; init; } = CertificateIssuer.System;
}

/// <summary>One step as a run or a plan saw it.</summary>
public sealed record StepReport(string Id, string Name, IReadOnlyList<string> ProcedureRows, string Node, string Batch, StepOutcome Outcome, IReadOnlyList<string> Changes);

/// <summary>What a run did (or, in a dry run, would do).</summary>
public sealed record RotationOutcome(
    string RotationId, RotationPhase Phase, bool DryRun, IReadOnlyList<JournalCa> Cas, IReadOnlyList<StepReport> Steps,
    IReadOnlyList<string> PlannedNodeChanges, IReadOnlyList<JournalCopy> JournalCopies);
