namespace KubeCaRotate.Pki;

/// <summary>
/// The material every control-plane node must hold identically (kubeadm's SharedCertificateExists): the three CAs and
/// the service-account key pair.
/// </summary>
public sealed record SharedPki(CertificateAuthority Cluster, CertificateAuthority FrontProxy, CertificateAuthority Etcd, PrivateKey ServiceAccountKey)
{
    public CertificateAuthority this[CaKind kind] => kind switch
    {
        CaKind.Cluster => Cluster,
        CaKind.FrontProxy => FrontProxy,
        CaKind.Etcd => Etcd,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>New CAs and a new service-account key, as `kubeadm init` makes them.</summary>
    public static SharedPki Create(CertificateIssuer issuer, KeyAlgorithm algorithm, TimeSpan caValidity) => new(
        issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, algorithm, caValidity),
        issuer.NewCertificateAuthority(KubeadmCatalog.FrontProxyCa, algorithm, caValidity),
        issuer.NewCertificateAuthority(KubeadmCatalog.EtcdCa, algorithm, caValidity),
        PrivateKey.Generate(algorithm));
}
