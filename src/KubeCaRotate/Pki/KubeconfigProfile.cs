namespace KubeCaRotate.Pki;

/// <summary>Which API server URL kubeadm writes into a kubeconfig.</summary>
public enum KubeconfigServer
{
    /// <summary>The controlPlaneEndpoint when set, else the node's own API server (admin.conf, super-admin.conf, kubelet.conf).</summary>
    ControlPlaneEndpoint,

    /// <summary>The node's own API server, https://advertiseAddress:bindPort (controller-manager.conf, scheduler.conf).</summary>
    LocalEndpoint,
}

/// <summary>A kubeconfig file kubeadm writes, with the identity of its embedded client certificate (signed by "ca").</summary>
public sealed record KubeconfigProfile(
    string FileName,
    Func<PkiContext, string> CommonName,
    Func<KubeadmVersionProfile, IReadOnlyList<string>> Organizations,
    KubeconfigServer Server,
    bool InitNodeOnly,
    bool RenewedByKubeadm,
    Func<KubeadmVersionProfile, bool> Exists)
{
    public CertificateTemplate Template(PkiContext context) =>
        CertificateTemplate.ForLeaf(CommonName(context), Organizations(context.Cluster.Profile), [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None);

    public string ServerUrl(PkiContext context) =>
        Server == KubeconfigServer.LocalEndpoint ? context.Node.LocalEndpointUrl() : context.ControlPlaneUrl();
}
