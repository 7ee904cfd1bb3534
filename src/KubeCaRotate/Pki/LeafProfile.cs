namespace KubeCaRotate.Pki;

/// <summary>
/// A kubeadm leaf certificate: id, file stem, signing CA, and the small functions that fill in what depends on the
/// node (CN, SANs), as in kubeadm's certlist.go.
/// </summary>
public sealed record LeafProfile(
    string Name,
    string BaseName,
    CaKind Ca,
    Func<PkiContext, string> CommonName,
    Func<KubeadmVersionProfile, IReadOnlyList<string>> Organizations,
    IReadOnlyList<ExtendedKeyUsage> Usages,
    Func<PkiContext, SubjectAltNames> AltNames,
    string UsedBy)
{
    public string CertFile => BaseName + ".crt";

    public string KeyFile => BaseName + ".key";

    /// <summary>True for a certificate a server presents (serverAuth): apiserver, etcd server and peer.</summary>
    public bool Serves => Usages.Contains(ExtendedKeyUsage.ServerAuth);

    public CertificateTemplate Template(PkiContext context) =>
        CertificateTemplate.ForLeaf(CommonName(context), Organizations(context.Cluster.Profile), Usages, AltNames(context));
}
