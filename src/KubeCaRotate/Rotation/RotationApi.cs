using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Rotation;

/// <summary>A workload whose pods read their trust at start (in-cluster config): a Deployment, DaemonSet or StatefulSet.</summary>
public sealed record WorkloadRef(string Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

/// <summary>Rolling restarts of workloads (procedure rows 6, 11.1, 11.6, 15.1), as `kubectl rollout restart` does, idempotent by a stamp.</summary>
public interface IWorkloads
{
    /// <summary>Every Deployment, DaemonSet and StatefulSet in every namespace (paged).</summary>
    Task<IReadOnlyList<WorkloadRef>> ListAsync(CancellationToken ct);

    /// <summary>True when the pod template already carries <see cref="FileStep.RestartAnnotation"/> = <paramref name="stamp"/>.</summary>
    Task<bool> IsRestartedAsync(WorkloadRef workload, string stamp, CancellationToken ct);

    /// <summary>Sets the pod template annotation <see cref="FileStep.RestartAnnotation"/> = <paramref name="stamp"/> (a no-op when set); false when the workload is gone.</summary>
    Task<bool> RestartAsync(WorkloadRef workload, string stamp, CancellationToken ct);

    /// <summary>Waits until the rollout is complete (the rules of `kubectl rollout status`); throws <see cref="RotationException"/> naming the workload when it does not finish in time.</summary>
    Task WaitRolledOutAsync(WorkloadRef workload, CancellationToken ct);
}

/// <summary>The controller-manager's publications of its --root-ca-file (procedure row 4).</summary>
public interface IRootCaWatch
{
    /// <summary>
    /// Waits until ca.crt of kube-root-ca.crt in every namespace, and of every kubernetes.io/service-account-token
    /// Secret, holds exactly <paramref name="expected"/> (as a set); throws <see cref="RotationException"/> naming the
    /// first object that lags when it does not happen in time.
    /// </summary>
    Task WaitPublishedAsync(IReadOnlyList<X509Certificate2> expected, CancellationToken ct);
}

/// <summary>API objects the tool edits or removes itself: cluster-info, extension-apiserver-authentication, kubeadm-certs.</summary>
public interface IClusterObjects
{
    /// <summary>A data field of a ConfigMap or Secret (Secret values decoded), or null when the object or field is absent.</summary>
    Task<string?> ReadFieldAsync(ObjectTarget target, string field, CancellationToken ct);

    /// <summary>Sets (or, with null, removes) one data field; throws <see cref="RotationException"/> naming the object when it does not exist.</summary>
    Task WriteFieldAsync(ObjectTarget target, string field, string? value, CancellationToken ct);

    Task<bool> ExistsAsync(ObjectTarget target, CancellationToken ct);

    /// <summary>Deletes the object; false when it was already gone.</summary>
    Task<bool> DeleteAsync(ObjectTarget target, CancellationToken ct);
}

/// <summary>
/// The cluster-wide lock and the public summary of a run: a Lease kube-system/kube-ca-rotate whose holder names the
/// rotation, the host and the process, and a ConfigMap kube-system/kube-ca-rotate with the journal's phase, id, CA
/// fingerprints and progress (never a key).
/// </summary>
public interface IRotationLock
{
    /// <summary>
    /// Takes the Lease for <paramref name="rotationId"/> and keeps renewing it until the returned handle is disposed.
    /// Refuses (<see cref="RotationException"/> naming the holder) while another live holder has it; takes it over when
    /// it expired or its holder process is known dead (same host, pid gone).
    /// </summary>
    Task<IAsyncDisposable> AcquireAsync(string rotationId, CancellationToken ct);

    Task PublishSummaryAsync(RotationJournal journal, CancellationToken ct);
}

/// <summary>Everything a rotation does through the Kubernetes API, as the Cluster part provides it.</summary>
public sealed record RotationApi(IRestartObserver Restarts, IWorkloads Workloads, IRootCaWatch RootCa, IClusterObjects Objects, IObjectBackup ObjectBackup, IRotationLock Lock);
