namespace KubeCaRotate.Trust;

/// <summary>Where one certificate was found: a node file (with the part of it, e.g. a kubeconfig field) or an object field.</summary>
public sealed record CaPlace(string Kind, string? Node, string Location);

/// <summary>A leaf certificate signed by a CA, where it is and when it expires.</summary>
public sealed record IssuedLeaf(string Subject, string Sha256, DateTimeOffset NotAfter, bool Expired, IReadOnlyList<CaPlace> Places);

/// <summary>One CA: every place it appears (as a trusted CA or in a bundle) and every leaf it signed.</summary>
public sealed record CaScanEntry(CaIdentity Ca, IReadOnlyList<CaPlace> Places, IReadOnlyList<IssuedLeaf> Leaves);

/// <summary>The inventory of CAs in a cluster: by fingerprint, with places and leaves; leaves whose issuer was not found are listed apart.</summary>
public sealed record CaScan(DateTimeOffset At, IReadOnlyList<CaScanEntry> Authorities, IReadOnlyList<IssuedLeaf> LeavesOfUnknownIssuer, IReadOnlyList<string> Problems)
{
    public CaScanEntry? Find(string sha256) => Authorities.FirstOrDefault(a => a.Ca.Sha256.Equals(sha256, StringComparison.OrdinalIgnoreCase));
}
