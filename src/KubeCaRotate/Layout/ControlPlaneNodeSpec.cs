using System.Net;
using System.Net.Sockets;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Layout;

/// <summary>Whether an etcd member starts a new cluster or joins an existing one (--initial-cluster-state).</summary>
public enum EtcdInitialClusterState
{
    New,
    Existing,
}

/// <summary>One "name=peerURL" entry of etcd's --initial-cluster.</summary>
public sealed record EtcdMember(string Name, string PeerUrl)
{
    public override string ToString() => $"{Name}={PeerUrl}";
}

/// <summary>
/// What kubeadm needs to know about one control-plane node to write its static pod manifests: the
/// InitConfiguration/ClusterConfiguration values, every address and port a parameter (the lab runs several
/// nodes on loopback addresses and ports of their own). Defaults are kubeadm's.
/// </summary>
public sealed record ControlPlaneNodeSpec
{
    public required string NodeName { get; init; }

    /// <summary>localAPIEndpoint.advertiseAddress: an IPv4 or IPv6 address.</summary>
    public required string AdvertiseAddress { get; init; }

    /// <summary>localAPIEndpoint.bindPort.</summary>
    public int ApiServerBindPort { get; init; } = 6443;

    /// <summary>ClusterConfiguration apiServer.extraArgs: flags added to (or replacing kubeadm's in) kube-apiserver.yaml.</summary>
    public IReadOnlyDictionary<string, string> ApiServerExtraArgs { get; init; } = new Dictionary<string, string>();

    public int EtcdClientPort { get; init; } = 2379;
    public int EtcdPeerPort { get; init; } = 2380;
    public int EtcdMetricsPort { get; init; } = 2381;

    /// <summary>etcd's --initial-cluster; empty means this member alone, as on the kubeadm init node.</summary>
    public IReadOnlyList<EtcdMember> InitialCluster { get; init; } = [];

    public EtcdInitialClusterState InitialClusterState { get; init; } = EtcdInitialClusterState.New;

    /// <summary>networking.serviceSubnet.</summary>
    public string ServiceCidr { get; init; } = "10.96.0.0/12";

    /// <summary>networking.podSubnet; when set the controller-manager allocates node CIDRs.</summary>
    public string? ClusterCidr { get; init; }

    /// <summary>networking.dnsDomain.</summary>
    public string DnsDomain { get; init; } = "cluster.local";

    public string ClusterName { get; init; } = "kubernetes";

    public string CertificatesDir { get; init; } = KubeadmPaths.DefaultKubernetesDir + "/pki";

    public string KubernetesDir { get; init; } = KubeadmPaths.DefaultKubernetesDir;

    /// <summary>etcd.local.dataDir.</summary>
    public string EtcdDataDir { get; init; } = "/var/lib/etcd";

    public int ControllerManagerSecurePort { get; init; } = DefaultControllerManagerSecurePort;
    public int SchedulerSecurePort { get; init; } = DefaultSchedulerSecurePort;
    public string ControllerManagerBindAddress { get; init; } = "127.0.0.1";
    public string SchedulerBindAddress { get; init; } = "127.0.0.1";

    /// <summary>
    /// kubeadm's external-CA mode (ca.crt without ca.key): the controller-manager gets empty signing flags.
    /// </summary>
    public bool ExternalCa { get; init; }

    public string KubernetesVersion { get; init; } = "v1.33.0";
    public string ImageRepository { get; init; } = "registry.k8s.io";
    public string EtcdImageTag { get; init; } = "3.5.21-0";

    public const int DefaultControllerManagerSecurePort = 10257;
    public const int DefaultSchedulerSecurePort = 10259;

    public bool IsIPv6 => IPAddress.TryParse(AdvertiseAddress, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>127.0.0.1, or ::1 when the advertise address is IPv6 (as kubeadm picks etcd's local address).</summary>
    public string Localhost => IsIPv6 ? "::1" : "127.0.0.1";

    /// <summary>https://advertise:clientPort, etcd's advertised client URL.</summary>
    public string EtcdClientUrl => Url("https", AdvertiseAddress, EtcdClientPort);

    /// <summary>https://localhost:clientPort, the etcd URL the local API server uses.</summary>
    public string EtcdLocalClientUrl => Url("https", Localhost, EtcdClientPort);

    /// <summary>https://advertise:peerPort.</summary>
    public string EtcdPeerUrl => Url("https", AdvertiseAddress, EtcdPeerPort);

    /// <summary>advertise:bindPort, the kube-apiserver.advertise-address.endpoint annotation.</summary>
    public string ApiServerEndpoint => HostPort(AdvertiseAddress, ApiServerBindPort);

    /// <summary>https://advertise:bindPort, the local API endpoint (controller-manager.conf, scheduler.conf).</summary>
    public string ApiServerUrl => "https://" + ApiServerEndpoint;

    public KubeadmPaths Paths => new() { KubernetesDir = KubernetesDir, CertificatesDir = CertificatesDir };

    internal string Pki(string relativePath) => NodePath.Combine(CertificatesDir, relativePath);

    internal static string HostPort(string host, int port) =>
        IPAddress.TryParse(host, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{host}]:{port}"
            : $"{host}:{port}";

    internal static string Url(string scheme, string host, int port) => $"{scheme}://{HostPort(host, port)}";
}
