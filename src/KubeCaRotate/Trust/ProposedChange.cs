using KubeCaRotate.Cluster;

namespace KubeCaRotate.Trust;

/// <summary>A change a step would make, for <see cref="TrustModel.Evaluate(ClusterSnapshot, IEnumerable{ProposedChange}, DateTimeOffset?)"/>.</summary>
public abstract record ProposedChange
{
    /// <summary>Writes a node file (null content deletes it). Writing a static pod manifest restarts that pod, as the kubelet does.</summary>
    public sealed record FileWrite(string Node, string Path, byte[]? Content) : ProposedChange;

    /// <summary>Sets one object field that holds PEM (e.g. ConfigMap lab-1/kube-root-ca.crt "data[ca.crt]"); null removes it.</summary>
    public sealed record ObjectWrite(ObjectRef Object, string Field, string? Pem) : ProposedChange;

    /// <summary>Restarts a component on a node: a static pod by name (kube-apiserver, etcd, ...) or "kubelet".</summary>
    public sealed record Restart(string Node, string Component) : ProposedChange;

    /// <summary>Restarts workload pods: one ("ns", "name"), a namespace's ("ns", "*") or all ("*", "*").</summary>
    public sealed record RestartPods(string Namespace, string Name) : ProposedChange;
}
