namespace KubeCaRotate.Cluster;

/// <summary>
/// What a component is known to have loaded from a file at its start, when that is known from somewhere else than the
/// file now on disk (a backup taken before a change, a what-if). <see cref="Component"/> is e.g. "kube-apiserver",
/// "etcd", "kubelet".
/// </summary>
public sealed record LoadedContent(string Node, string Component, string Path, byte[] Content);
