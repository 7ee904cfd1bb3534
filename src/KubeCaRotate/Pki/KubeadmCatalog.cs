using System.Net;

namespace KubeCaRotate.Pki;

/// <summary>
/// Every certificate of a kubeadm cluster as data (reference/kubeadm-pki.md §1–3; kubeadm's certlist.go and
/// kubeconfig.go). Everything else — issuing, inspecting, rotating — is driven from these lists.
/// </summary>
public static class KubeadmCatalog
{
    public static readonly CaProfile ClusterCa = new(CaKind.Cluster, "ca", "ca", "kubernetes", "Kubernetes cluster CA");
    public static readonly CaProfile FrontProxyCa = new(CaKind.FrontProxy, "front-proxy-ca", "front-proxy-ca", "front-proxy-ca", "front-proxy CA");
    public static readonly CaProfile EtcdCa = new(CaKind.Etcd, "etcd-ca", "etcd/ca", "etcd-ca", "etcd CA");

    public static IReadOnlyList<CaProfile> CertificateAuthorities { get; } = [ClusterCa, FrontProxyCa, EtcdCa];

    public static CaProfile Ca(CaKind kind) => CertificateAuthorities.First(c => c.Kind == kind);

    /// <summary>The service-account signing key pair: not a certificate, never expires, shared by all control-plane nodes.</summary>
    public const string ServiceAccountKeyFile = "sa.key";
    public const string ServiceAccountPublicKeyFile = "sa.pub";

    private static IReadOnlyList<string> None(KubeadmVersionProfile _) => [];

    private static Func<KubeadmVersionProfile, IReadOnlyList<string>> Orgs(string current, string? before129) =>
        p => p == KubeadmVersionProfile.Current ? [current] : before129 is null ? [] : [before129];

    private static Func<KubeadmVersionProfile, IReadOnlyList<string>> OrgsBefore129Only(string before129) =>
        p => p == KubeadmVersionProfile.Current ? [] : [before129];

    public static readonly LeafProfile ApiServer = new(
        "apiserver", "apiserver", CaKind.Cluster,
        _ => "kube-apiserver", None, [ExtendedKeyUsage.ServerAuth], ApiServerAltNames,
        "kube-apiserver --tls-cert-file/--tls-private-key-file");

    public static readonly LeafProfile ApiServerKubeletClient = new(
        "apiserver-kubelet-client", "apiserver-kubelet-client", CaKind.Cluster,
        _ => "kube-apiserver-kubelet-client", Orgs("kubeadm:cluster-admins", "system:masters"), [ExtendedKeyUsage.ClientAuth], _ => SubjectAltNames.None,
        "kube-apiserver --kubelet-client-certificate/--kubelet-client-key");

    public static readonly LeafProfile FrontProxyClient = new(
        "front-proxy-client", "front-proxy-client", CaKind.FrontProxy,
        _ => "front-proxy-client", None, [ExtendedKeyUsage.ClientAuth], _ => SubjectAltNames.None,
        "kube-apiserver --proxy-client-cert-file/--proxy-client-key-file");

    public static readonly LeafProfile EtcdServer = new(
        "etcd-server", "etcd/server", CaKind.Etcd,
        c => c.Node.Name, None, [ExtendedKeyUsage.ServerAuth, ExtendedKeyUsage.ClientAuth], c => EtcdAltNames(c, c.Cluster.EtcdServerCertSans),
        "etcd --cert-file/--key-file");

    public static readonly LeafProfile EtcdPeer = new(
        "etcd-peer", "etcd/peer", CaKind.Etcd,
        c => c.Node.Name, None, [ExtendedKeyUsage.ServerAuth, ExtendedKeyUsage.ClientAuth], c => EtcdAltNames(c, c.Cluster.EtcdPeerCertSans),
        "etcd --peer-cert-file/--peer-key-file");

    public static readonly LeafProfile EtcdHealthcheckClient = new(
        "etcd-healthcheck-client", "etcd/healthcheck-client", CaKind.Etcd,
        _ => "kube-etcd-healthcheck-client", OrgsBefore129Only("system:masters"), [ExtendedKeyUsage.ClientAuth], _ => SubjectAltNames.None,
        "kubeadm's etcd client (health checks, member add/remove)");

    public static readonly LeafProfile ApiServerEtcdClient = new(
        "apiserver-etcd-client", "apiserver-etcd-client", CaKind.Etcd,
        _ => "kube-apiserver-etcd-client", OrgsBefore129Only("system:masters"), [ExtendedKeyUsage.ClientAuth], _ => SubjectAltNames.None,
        "kube-apiserver --etcd-certfile/--etcd-keyfile");

    /// <summary>The leaves of a control-plane node with stacked etcd, in kubeadm's order.</summary>
    public static IReadOnlyList<LeafProfile> Leaves { get; } =
        [ApiServer, ApiServerKubeletClient, FrontProxyClient, EtcdServer, EtcdPeer, EtcdHealthcheckClient, ApiServerEtcdClient];

    public static readonly KubeconfigProfile Admin = new(
        "admin.conf", _ => "kubernetes-admin", Orgs("kubeadm:cluster-admins", "system:masters"),
        KubeconfigServer.ControlPlaneEndpoint, InitNodeOnly: false, RenewedByKubeadm: true, _ => true);

    public static readonly KubeconfigProfile SuperAdmin = new(
        "super-admin.conf", _ => "kubernetes-super-admin", _ => ["system:masters"],
        KubeconfigServer.ControlPlaneEndpoint, InitNodeOnly: true, RenewedByKubeadm: true, p => p == KubeadmVersionProfile.Current);

    public static readonly KubeconfigProfile Kubelet = new(
        "kubelet.conf", c => "system:node:" + c.Node.Name, _ => ["system:nodes"],
        KubeconfigServer.ControlPlaneEndpoint, InitNodeOnly: false, RenewedByKubeadm: false, _ => true);

    public static readonly KubeconfigProfile ControllerManager = new(
        "controller-manager.conf", _ => "system:kube-controller-manager", None,
        KubeconfigServer.LocalEndpoint, InitNodeOnly: false, RenewedByKubeadm: true, _ => true);

    public static readonly KubeconfigProfile Scheduler = new(
        "scheduler.conf", _ => "system:kube-scheduler", None,
        KubeconfigServer.LocalEndpoint, InitNodeOnly: false, RenewedByKubeadm: true, _ => true);

    public static IReadOnlyList<KubeconfigProfile> Kubeconfigs { get; } = [Admin, SuperAdmin, Kubelet, ControllerManager, Scheduler];

    /// <summary>
    /// kubeadm's GetAPIServerAltNames: node name, kubernetes, kubernetes.default, kubernetes.default.svc,
    /// kubernetes.default.svc.&lt;dnsDomain&gt;; the first service IP and the advertise address; the control-plane
    /// endpoint's host; apiServer.certSANs.
    /// </summary>
    public static SubjectAltNames ApiServerAltNames(PkiContext c)
    {
        var dns = new List<string>
        {
            c.Node.Name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + c.Cluster.DnsDomain,
        };
        var extra = new List<string>();
        if (c.Cluster.ControlPlaneEndpointHost() is { } host) extra.Add(host);
        extra.AddRange(c.Cluster.ApiServerCertSans);
        return SubjectAltNames.From(dns, [c.Cluster.FirstServiceIp(), c.Node.AdvertiseAddress], extra, out _);
    }

    /// <summary>kubeadm's etcd server/peer SANs: node name, localhost, the advertise address, 127.0.0.1, ::1, plus extras.</summary>
    public static SubjectAltNames EtcdAltNames(PkiContext c, IReadOnlyList<string> extra) =>
        SubjectAltNames.From([c.Node.Name, "localhost"], [c.Node.AdvertiseAddress, IPAddress.Loopback, IPAddress.IPv6Loopback], extra, out _);
}
