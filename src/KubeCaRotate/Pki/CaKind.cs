namespace KubeCaRotate.Pki;

/// <summary>The three certificate authorities of a kubeadm cluster.</summary>
public enum CaKind
{
    /// <summary>"ca": ca.crt/ca.key, CN=kubernetes. Signs the API server, kubeconfig and kubelet client certs.</summary>
    Cluster,

    /// <summary>"front-proxy-ca": front-proxy-ca.crt/key. Signs the API server's client cert towards aggregated API servers.</summary>
    FrontProxy,

    /// <summary>"etcd-ca": etcd/ca.crt/key. Signs etcd's server, peer and client certs.</summary>
    Etcd,
}
