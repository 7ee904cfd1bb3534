namespace KubeCaRotate.Layout;

/// <summary>One certificate as `pki inspect` reports it: the first certificate of a file, or a kubeconfig's client certificate.</summary>
public sealed record InspectedCertificate(
    string Name,
    string Source,
    string Subject,
    string Issuer,
    string? SignedBy,
    string? ExpectedCa,
    IReadOnlyList<string> AltNames,
    IReadOnlyList<string> Usages,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    TimeSpan TimeLeft,
    string Sha256Fingerprint,
    string KeyType,
    int CertificatesInFile,
    bool IsCertificateAuthority,
    bool ExternallyManaged);

/// <summary>The result of inspecting a kubeadm configuration directory.</summary>
public sealed record PkiInspectionReport(
    string Directory,
    DateTimeOffset At,
    IReadOnlyList<InspectedCertificate> CertificateAuthorities,
    IReadOnlyList<InspectedCertificate> Certificates,
    IReadOnlyList<PkiProblem> Problems)
{
    public bool IsClean => Problems.Count == 0;
}
