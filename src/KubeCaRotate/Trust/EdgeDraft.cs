namespace KubeCaRotate.Trust;

/// <summary>One side verifying the other: <see cref="Verifier"/> checks what <see cref="Presenter"/> presents against what it trusts.</summary>
internal sealed record Check(string Verifier, string Presenter, Material Trust, Material Presented, string UsageOid, string? Host, string? NotChecked = null)
{
    public bool IsServerCheck => UsageOid == TrustBundleVerifier.ServerAuthOid;
}

/// <summary>An edge before evaluation: its checks as seen through one <see cref="WorldView"/>.</summary>
internal sealed record EdgeDraft(string Id, EdgeKind Kind, string Client, string Server, string ClientDescription, string ServerDescription, IReadOnlyList<Check> Checks, IReadOnlyList<string> Notes);
