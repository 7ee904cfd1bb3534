using KubeCaRotate.Nodes;

namespace KubeCaRotate.Layout;

/// <summary>
/// kubeadm's default node paths and file names (reference/kubeadm-pki.md §0, §3, §5), with the certificates
/// directory configurable as ClusterConfiguration.certificatesDir is. All paths are node paths.
/// </summary>
public sealed record KubeadmPaths
{
    public const string DefaultKubernetesDir = "/etc/kubernetes";
    public const string DefaultKubeletDir = "/var/lib/kubelet";

    public const string AdminConfFileName = "admin.conf";
    public const string SuperAdminConfFileName = "super-admin.conf";
    public const string ControllerManagerConfFileName = "controller-manager.conf";
    public const string SchedulerConfFileName = "scheduler.conf";
    public const string KubeletConfFileName = "kubelet.conf";
    public const string BootstrapKubeletConfFileName = "bootstrap-kubelet.conf";

    public const string EtcdManifestFileName = "etcd.yaml";
    public const string ApiServerManifestFileName = "kube-apiserver.yaml";
    public const string ControllerManagerManifestFileName = "kube-controller-manager.yaml";
    public const string SchedulerManifestFileName = "kube-scheduler.yaml";

    public const string KubeletClientCurrentFileName = "kubelet-client-current.pem";
    public const string KubeletServingCertFileName = "kubelet.crt";
    public const string KubeletServingKeyFileName = "kubelet.key";

    /// <summary>kubeadm's defaults: /etc/kubernetes, /etc/kubernetes/pki, /var/lib/kubelet.</summary>
    public static KubeadmPaths Default { get; } = new();

    /// <summary>The defaults with another certificatesDir.</summary>
    public static KubeadmPaths WithCertificatesDir(string certificatesDir) => new() { CertificatesDir = certificatesDir };

    public string KubernetesDir { get; init; } = DefaultKubernetesDir;

    /// <summary>ClusterConfiguration.certificatesDir (default /etc/kubernetes/pki).</summary>
    public string CertificatesDir { get; init; } = DefaultKubernetesDir + "/pki";

    public string KubeletDir { get; init; } = DefaultKubeletDir;

    public string ManifestsDir => NodePath.Combine(KubernetesDir, "manifests");

    public string AdminConf => NodePath.Combine(KubernetesDir, AdminConfFileName);
    public string SuperAdminConf => NodePath.Combine(KubernetesDir, SuperAdminConfFileName);
    public string ControllerManagerConf => NodePath.Combine(KubernetesDir, ControllerManagerConfFileName);
    public string SchedulerConf => NodePath.Combine(KubernetesDir, SchedulerConfFileName);
    public string KubeletConf => NodePath.Combine(KubernetesDir, KubeletConfFileName);
    public string BootstrapKubeletConf => NodePath.Combine(KubernetesDir, BootstrapKubeletConfFileName);

    /// <summary>Every kubeconfig kubeadm may write on a control-plane node, admin first.</summary>
    public IReadOnlyList<string> Kubeconfigs => [AdminConf, SuperAdminConf, ControllerManagerConf, SchedulerConf, KubeletConf];

    public string EtcdManifest => NodePath.Combine(ManifestsDir, EtcdManifestFileName);
    public string ApiServerManifest => NodePath.Combine(ManifestsDir, ApiServerManifestFileName);
    public string ControllerManagerManifest => NodePath.Combine(ManifestsDir, ControllerManagerManifestFileName);
    public string SchedulerManifest => NodePath.Combine(ManifestsDir, SchedulerManifestFileName);

    public IReadOnlyList<string> StaticPodManifests => [EtcdManifest, ApiServerManifest, ControllerManagerManifest, SchedulerManifest];

    /// <summary>A file in the certificates directory, e.g. Pki("ca.crt") or Pki("etcd/ca.crt").</summary>
    public string Pki(string relativePath) => NodePath.Combine(CertificatesDir, relativePath);

    public string EtcdPkiDir => Pki("etcd");

    public string CaCert => Pki("ca.crt");
    public string CaKey => Pki("ca.key");
    public string FrontProxyCaCert => Pki("front-proxy-ca.crt");
    public string FrontProxyCaKey => Pki("front-proxy-ca.key");
    public string EtcdCaCert => Pki("etcd/ca.crt");
    public string EtcdCaKey => Pki("etcd/ca.key");
    public string ServiceAccountKey => Pki("sa.key");
    public string ServiceAccountPublicKey => Pki("sa.pub");

    /// <summary>/var/lib/kubelet/config.yaml, the KubeletConfiguration.</summary>
    public string KubeletConfigFile => NodePath.Combine(KubeletDir, "config.yaml");

    /// <summary>/var/lib/kubelet/kubeadm-flags.env.</summary>
    public string KubeletFlagsFile => NodePath.Combine(KubeletDir, "kubeadm-flags.env");

    public string KubeletPkiDir => NodePath.Combine(KubeletDir, "pki");

    /// <summary>The link to the kubelet's newest client certificate and key (one PEM).</summary>
    public string KubeletClientCurrent => NodePath.Combine(KubeletPkiDir, KubeletClientCurrentFileName);

    public string KubeletServingCert => NodePath.Combine(KubeletPkiDir, KubeletServingCertFileName);
    public string KubeletServingKey => NodePath.Combine(KubeletPkiDir, KubeletServingKeyFileName);

    /// <summary>The dated file the kubelet writes a client certificate to, e.g. kubelet-client-2024-05-01-10-00-00.pem.</summary>
    public string KubeletClientDated(DateTimeOffset issued) =>
        NodePath.Combine(KubeletPkiDir, $"kubelet-client-{issued.UtcDateTime:yyyy-MM-dd-HH-mm-ss}.pem");
}
