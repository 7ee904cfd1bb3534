namespace KubeCaRotate.Pki;

/// <summary>A kubeadm certificate authority: its id, file stem under the certificates directory, and subject.</summary>
public sealed record CaProfile(CaKind Kind, string Name, string BaseName, string CommonName, string Description)
{
    public string CertFile => BaseName + ".crt";

    public string KeyFile => BaseName + ".key";

    public CertificateTemplate Template() => CertificateTemplate.ForCertificateAuthority(CommonName);
}
