namespace KubeCaRotate.Cluster;

/// <summary>
/// A pod as far as trust goes: where it runs, when it started (status.startTime), and for a mirror pod the static
/// pod component it stands for (kube-apiserver, etcd, ...). A workload pod that mounts a service-account token
/// reads the CA of its namespace's kube-root-ca.crt once, at its start.
/// </summary>
public sealed record PodFacts(
    string Namespace,
    string Name,
    string? NodeName,
    DateTimeOffset? StartedAt,
    string? MirrorComponent,
    string? ServiceAccount,
    bool MountsServiceAccountToken,
    string Phase)
{
    public bool IsMirror => MirrorComponent is not null;

    public string Id => $"{Namespace}/{Name}";
}
