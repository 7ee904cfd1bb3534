namespace KubeCaRotate.Trust;

/// <summary>
/// Which component re-reads which file while it runs and which reads it only at its start (reference/kubeadm-pki.md
/// section 7). Flags not listed are read at start, the safe assumption.
/// </summary>
public static class ComponentReloads
{
    public const string ApiServer = "kube-apiserver";
    public const string ControllerManager = "kube-controller-manager";
    public const string Scheduler = "kube-scheduler";
    public const string Etcd = "etcd";
    public const string Kubelet = "kubelet";

    /// <summary>The table itself: component, flag or file role, and whether it is reloaded without a restart.</summary>
    public static IReadOnlyList<(string Component, string Material, bool Reloaded, string Evidence)> Table { get; } =
    [
        (ApiServer, "--tls-cert-file / --tls-private-key-file", true, "dynamic serving certificate controller (1.17+)"),
        (ApiServer, "--client-ca-file", true, "dynamic CA file (1.17+)"),
        (ApiServer, "--requestheader-client-ca-file", true, "dynamic CA file (1.17+)"),
        (ApiServer, "--proxy-client-cert-file / --proxy-client-key-file", true, "aggregator-proxy-cert dynamic loader"),
        (ApiServer, "--kubelet-client-certificate / --kubelet-client-key", true, "re-read on a timer"),
        (ApiServer, "--kubelet-certificate-authority", false, "read at start"),
        (ApiServer, "--etcd-cafile / --etcd-certfile / --etcd-keyfile", false, "trust pool built at start: restart"),
        (ControllerManager, "--kubeconfig (controller-manager.conf)", false, "read at start: restart"),
        (ControllerManager, "--root-ca-file", false, "read once at start: restart"),
        (ControllerManager, "--cluster-signing-cert-file / --cluster-signing-key-file", true, "compared on every signing"),
        (Scheduler, "--kubeconfig (scheduler.conf)", false, "read at start: restart"),
        (Etcd, "--cert-file / --key-file / --peer-cert-file / --peer-key-file", true, "re-read on new handshakes"),
        (Etcd, "--trusted-ca-file / --peer-trusted-ca-file", false, "read at start: restart"),
        (Kubelet, "kubelet.conf (CA data)", false, "read at start: restart the kubelet"),
        (Kubelet, "client certificate (kubelet-client-current.pem)", true, "certificate manager swaps it in memory"),
        (Kubelet, "clientCAFile", true, "dynamic CA file for verification"),
        (Kubelet, "serving certificate (kubelet.crt)", false, "read at start"),
        ("workload pod", "service-account ca.crt (kube-root-ca.crt)", false, "client-go reads it at start: restart the pod"),
        ("kubectl", "admin kubeconfigs", true, "read at every invocation"),
    ];

    private static readonly HashSet<(string, string)> Reloaded =
    [
        (ApiServer, "tls-cert-file"), (ApiServer, "tls-private-key-file"), (ApiServer, "client-ca-file"),
        (ApiServer, "requestheader-client-ca-file"), (ApiServer, "proxy-client-cert-file"), (ApiServer, "proxy-client-key-file"),
        (ApiServer, "kubelet-client-certificate"), (ApiServer, "kubelet-client-key"),
        (ControllerManager, "cluster-signing-cert-file"), (ControllerManager, "cluster-signing-key-file"),
        (ControllerManager, "client-ca-file"), (ControllerManager, "requestheader-client-ca-file"),
        (Etcd, "cert-file"), (Etcd, "key-file"), (Etcd, "peer-cert-file"), (Etcd, "peer-key-file"),
        (Kubelet, "client-certificate"), (Kubelet, "clientCAFile"),
    ];

    /// <summary>True when <paramref name="component"/> reads the file behind <paramref name="flag"/> only at its start.</summary>
    public static bool ReadAtStart(string component, string flag) => !Reloaded.Contains((component, flag));
}
