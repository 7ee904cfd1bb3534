namespace KubeCaRotate.Layout;

/// <summary>
/// The values kubeadm puts in /var/lib/kubelet/config.yaml, plus the listening address and ports the lab
/// gives each kubelet. Null means "not written" (the kubelet's own default applies).
/// </summary>
public sealed record KubeletConfigSpec
{
    public string CertificatesDir { get; init; } = KubeadmPaths.DefaultKubernetesDir + "/pki";

    public string StaticPodPath { get; init; } = KubeadmPaths.DefaultKubernetesDir + "/manifests";

    /// <summary>networking.serviceSubnet; the cluster DNS address is its tenth address.</summary>
    public string ServiceCidr { get; init; } = "10.96.0.0/12";

    public string ClusterDomain { get; init; } = "cluster.local";

    public string CgroupDriver { get; init; } = "systemd";

    /// <summary>The kubelet API's listening address (kubelet default 0.0.0.0; kubeadm does not write it).</summary>
    public string? Address { get; init; }

    /// <summary>The kubelet API port (kubelet default 10250; kubeadm does not write it).</summary>
    public int? Port { get; init; }

    public string HealthzBindAddress { get; init; } = "127.0.0.1";

    public int HealthzPort { get; init; } = 10248;

    /// <summary>How often the kubelet re-reads staticPodPath; null writes kubeadm's "0s" (the kubelet's 20 s default).</summary>
    public TimeSpan? FileCheckFrequency { get; init; }
}
