using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>What the operator asked for (the CLI fills it from its options; tests fill it directly).</summary>
public sealed record RotationRequest
{
    /// <summary>Kubelets restarted at once by default: a kubelet restart leaves running pods alone, and the first node goes alone as a canary.</summary>
    public const int DefaultKubeletParallelism = 5;

    /// <summary>The CAs to rotate (cluster, front-proxy, etcd), each with its source.</summary>
    public required IReadOnlyList<CaRotationRequest> Cas { get; init; }

    public RotationMode Mode { get; init; } = RotationMode.Rotate;

    /// <summary>Run over dry-run nodes: every check and read runs, nothing changes, the changes are reported.</summary>
    public bool DryRun { get; init; }

    /// <summary>How many kubelets restart at once (a wave), after the first, which restarts alone.</summary>
    public int KubeletParallelism { get; init; } = DefaultKubeletParallelism;

    /// <summary>How many workloads roll at once.</summary>
    public int WorkloadParallelism { get; init; } = 4;

    /// <summary>`start` stops after this phase: <see cref="RotationPhase.Trusted"/> (`--until trusted`) or <see cref="RotationPhase.Switched"/> (the default).</summary>
    public RotationPhase Until { get; init; } = RotationPhase.Switched;
}

/// <summary>What `complete` and `rollback` are asked (the CAs and mode come from the journal).</summary>
public sealed record FinishRequest
{
    public bool DryRun { get; init; }

    public int KubeletParallelism { get; init; } = RotationRequest.DefaultKubeletParallelism;

    public int WorkloadParallelism { get; init; } = 4;
}

/// <summary>The cluster as the rotation reaches it.</summary>
public sealed record RotationCluster(RotationNodes Nodes, RotationPaths Paths)
{
    /// <summary>Asked before every step (the Trust part's what-if); <see cref="KubeadmLayoutGate"/> is always asked too.</summary>
    public ITrustGate? TrustGate { get; init; }

    /// <summary>
    /// Makes a fresh trust gate at the start of each phase (the cluster read again: what the previous phase's restarts
    /// and rolls made components load, and what the controllers published). Wins over <see cref="TrustGate"/>.
    /// </summary>
    public Func<CancellationToken, Task<ITrustGate>>? TrustGateFactory { get; init; }

    /// <summary>Watches restarts come back (the Cluster part); without it a real run stops at the first restart. <see cref="Api"/>'s wins when set.</summary>
    public IRestartObserver? Restarts
    {
        get => Api?.Restarts ?? _restarts;
        init => _restarts = value;
    }

    private readonly IRestartObserver? _restarts;

    /// <summary>What the rotation does through the Kubernetes API (the Cluster part's ClusterRotationApi); without it the API steps refuse with a sentence.</summary>
    public RotationApi? Api { get; init; }

    public CertificateIssuer Issuer { get; init; } = CertificateIssuer.System;

    /// <summary>The operator's admin kubeconfig on this machine (the inventory's kubeconfig), kept working through the rotation by <see cref="OperatorKubeconfig"/>; null: none.</summary>
    public string? OperatorKubeconfig { get; init; }

    /// <summary>Whether `complete` connects to every API server and etcd member to see the certificates they serve (off only for node directories without processes).</summary>
    public bool ProveLiveEndpoints { get; init; } = true;
}

/// <summary>One step as a run or a plan saw it.</summary>
public sealed record StepReport(string Id, string Name, IReadOnlyList<string> ProcedureRows, string Node, string Batch, StepOutcome Outcome, IReadOnlyList<string> Changes)
{
    /// <summary>The unavoidable disruption the step causes, or null.</summary>
    public string? Disruption { get; init; }
}

/// <summary>What a run did (or, in a dry run, would do).</summary>
public sealed record RotationOutcome(
    string RotationId, RotationPhase Phase, bool DryRun, IReadOnlyList<JournalCa> Cas, IReadOnlyList<StepReport> Steps,
    IReadOnlyList<string> PlannedNodeChanges, IReadOnlyList<JournalCopy> JournalCopies)
{
    /// <summary>Things the operator must know (e.g. the kubeadm-certs Secret was deleted).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>After `complete`: the new --discovery-token-ca-cert-hash (sha256:...) for `kubeadm join`.</summary>
    public string? DiscoveryTokenCaCertHash { get; init; }

    /// <summary>After `complete`: a new admin kubeconfig for the operator (it holds a private key: write it 0600, never print it).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public byte[]? AdminKubeconfig { get; init; }

    /// <summary>What was proven before distrusting the old CA (complete), one sentence each.</summary>
    public IReadOnlyList<string> Verified { get; init; } = [];
}

/// <summary>`status`: where a rotation stands, read from the journals (no lock needed).</summary>
public sealed record RotationStatus(
    string? RotationId, RotationPhase Phase, RotationMode Mode, IReadOnlyList<JournalCa> Cas, int FinishedSteps,
    DateTimeOffset? StartedAt, DateTimeOffset? UpdatedAt, string NextAction, IReadOnlyList<JournalCopy> JournalCopies);
