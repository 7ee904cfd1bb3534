namespace KubeCaRotate.Trust;

/// <summary>
/// One evaluated connection: its id ("client->server", as the lab prober names edges), kind, both ends, its state
/// and why, in sentences that name the node, the component, the file or object and the CA.
/// </summary>
public sealed record TrustEdge(
    string Id,
    EdgeKind Kind,
    string Client,
    string Server,
    EdgeState State,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> Notes,
    EdgeEnd ClientEnd,
    EdgeEnd ServerEnd);
