namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// One connection of the cluster as its client makes it: who connects (<see cref="Client"/>, e.g. "cp-1/kube-apiserver"),
/// to whom (<see cref="Server"/>), at which URL (with the small request's path), with which credentials and trust.
/// </summary>
public sealed record TrustEdge(EdgeKind Kind, string Client, string Server, Uri Url, EdgeCredentials Credentials)
{
    /// <summary>The edge's id in probe.jsonl and reports: "client->server".</summary>
    public string Id => $"{Client}->{Server}";
}
