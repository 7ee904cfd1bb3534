namespace KubeCaRotate.Trust;

/// <summary>Every edge of a cluster evaluated at <see cref="At"/>, plus what could not be read.</summary>
public sealed record TrustReport(DateTimeOffset At, IReadOnlyList<TrustEdge> Edges, IReadOnlyList<string> Problems, IReadOnlyList<CaIdentity> CertificateAuthorities)
{
    public EdgeState State => Edges.Count == 0 ? EdgeState.Healthy : Edges.Max(e => e.State);

    public IEnumerable<TrustEdge> Broken => Edges.Where(e => e.State == EdgeState.Broken);

    public IEnumerable<TrustEdge> AtRisk => Edges.Where(e => e.State == EdgeState.AtRisk);

    public TrustEdge? Edge(string id) => Edges.FirstOrDefault(e => e.Id == id);
}
