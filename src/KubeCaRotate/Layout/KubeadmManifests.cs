using System.Globalization;
using KubeCaRotate.Nodes;
using YamlDotNet.RepresentationModel;
using static KubeCaRotate.Layout.YamlNodes;

namespace KubeCaRotate.Layout;

/// <summary>
/// kubeadm's four static pod manifests as kubeadm writes them (cmd/kubeadm/app/phases/controlplane/manifests.go,
/// volumes.go and phases/etcd/local.go, kubeadm 1.29–1.33): the same flags sorted by name as kubeadm sorts them,
/// the same hostPath volumes, probes, labels, annotations and priority. Everything node-specific comes from
/// the <see cref="ControlPlaneNodeSpec"/>.
/// </summary>
public static class KubeadmManifests
{
    public const string AdvertiseAddressEndpointAnnotation = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint";
    public const string EtcdAdvertiseClientUrlsAnnotation = "kubeadm.kubernetes.io/etcd.advertise-client-urls";

    /// <summary>kubeadm's default ControlPlaneComponentHealthCheck timeout (4 minutes), which sizes the startup probes.</summary>
    private const int ComponentHealthCheckSeconds = 240;

    /// <summary>All four manifests, keyed by node path under the manifests directory.</summary>
    public static IReadOnlyDictionary<string, StaticPodManifest> All(ControlPlaneNodeSpec spec)
    {
        var paths = spec.Paths;
        return new Dictionary<string, StaticPodManifest>(StringComparer.Ordinal)
        {
            [paths.EtcdManifest] = Etcd(spec),
            [paths.ApiServerManifest] = KubeApiServer(spec),
            [paths.ControllerManagerManifest] = KubeControllerManager(spec),
            [paths.SchedulerManifest] = KubeScheduler(spec),
        };
    }

    /// <summary>The flags of kube-apiserver.yaml (without the program name), sorted as kubeadm sorts them.</summary>
    public static IReadOnlyList<string> KubeApiServerFlags(ControlPlaneNodeSpec spec) => Sorted(WithExtraArgs(
    [
        ("advertise-address", spec.AdvertiseAddress),
        ("allow-privileged", "true"),
        ("authorization-mode", "Node,RBAC"),
        ("client-ca-file", spec.Pki("ca.crt")),
        ("enable-admission-plugins", "NodeRestriction"),
        ("enable-bootstrap-token-auth", "true"),
        ("etcd-cafile", spec.Pki("etcd/ca.crt")),
        ("etcd-certfile", spec.Pki("apiserver-etcd-client.crt")),
        ("etcd-keyfile", spec.Pki("apiserver-etcd-client.key")),
        ("etcd-servers", spec.EtcdLocalClientUrl),
        ("kubelet-client-certificate", spec.Pki("apiserver-kubelet-client.crt")),
        ("kubelet-client-key", spec.Pki("apiserver-kubelet-client.key")),
        ("kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname"),
        ("proxy-client-cert-file", spec.Pki("front-proxy-client.crt")),
        ("proxy-client-key-file", spec.Pki("front-proxy-client.key")),
        ("requestheader-allowed-names", "front-proxy-client"),
        ("requestheader-client-ca-file", spec.Pki("front-proxy-ca.crt")),
        ("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
        ("requestheader-group-headers", "X-Remote-Group"),
        ("requestheader-username-headers", "X-Remote-User"),
        ("secure-port", Number(spec.ApiServerBindPort)),
        ("service-account-issuer", $"https://kubernetes.default.svc.{spec.DnsDomain}"),
        ("service-account-key-file", spec.Pki("sa.pub")),
        ("service-account-signing-key-file", spec.Pki("sa.key")),
        ("service-cluster-ip-range", spec.ServiceCidr),
        ("tls-cert-file", spec.Pki("apiserver.crt")),
        ("tls-private-key-file", spec.Pki("apiserver.key")),
    ], spec.ApiServerExtraArgs));

    /// <summary>kubeadm's extraArgs: each replaces the flag of the same name or is added.</summary>
    private static IEnumerable<(string Name, string Value)> WithExtraArgs(IEnumerable<(string Name, string Value)> flags, IReadOnlyDictionary<string, string> extraArgs) =>
        flags.Where(f => !extraArgs.ContainsKey(f.Name)).Concat(extraArgs.Select(e => (e.Key, e.Value)));

    /// <summary>The flags of kube-controller-manager.yaml.</summary>
    public static IReadOnlyList<string> KubeControllerManagerFlags(ControlPlaneNodeSpec spec)
    {
        var kubeconfig = NodePath.Combine(spec.KubernetesDir, KubeadmPaths.ControllerManagerConfFileName);
        var flags = new List<(string, string)>
        {
            ("authentication-kubeconfig", kubeconfig),
            ("authorization-kubeconfig", kubeconfig),
            ("bind-address", spec.ControllerManagerBindAddress),
            ("client-ca-file", spec.Pki("ca.crt")),
            ("cluster-name", spec.ClusterName),
            ("cluster-signing-cert-file", spec.ExternalCa ? "" : spec.Pki("ca.crt")),
            ("cluster-signing-key-file", spec.ExternalCa ? "" : spec.Pki("ca.key")),
            ("controllers", "*,bootstrapsigner,tokencleaner"),
            ("kubeconfig", kubeconfig),
            ("leader-elect", "true"),
            ("requestheader-client-ca-file", spec.Pki("front-proxy-ca.crt")),
            ("root-ca-file", spec.Pki("ca.crt")),
            ("service-account-private-key-file", spec.Pki("sa.key")),
            ("use-service-account-credentials", "true"),
        };
        if (!string.IsNullOrEmpty(spec.ClusterCidr))
        {
            flags.Add(("allocate-node-cidrs", "true"));
            flags.Add(("cluster-cidr", spec.ClusterCidr));
            flags.Add(("service-cluster-ip-range", spec.ServiceCidr));
        }

        // kubeadm passes no --secure-port; a port other than the default is what an extraArgs entry would add.
        if (spec.ControllerManagerSecurePort != ControlPlaneNodeSpec.DefaultControllerManagerSecurePort)
        {
            flags.Add(("secure-port", Number(spec.ControllerManagerSecurePort)));
        }

        return Sorted(flags);
    }

    /// <summary>The flags of kube-scheduler.yaml.</summary>
    public static IReadOnlyList<string> KubeSchedulerFlags(ControlPlaneNodeSpec spec)
    {
        var kubeconfig = NodePath.Combine(spec.KubernetesDir, KubeadmPaths.SchedulerConfFileName);
        var flags = new List<(string, string)>
        {
            ("authentication-kubeconfig", kubeconfig),
            ("authorization-kubeconfig", kubeconfig),
            ("bind-address", spec.SchedulerBindAddress),
            ("kubeconfig", kubeconfig),
            ("leader-elect", "true"),
        };
        if (spec.SchedulerSecurePort != ControlPlaneNodeSpec.DefaultSchedulerSecurePort)
        {
            flags.Add(("secure-port", Number(spec.SchedulerSecurePort)));
        }

        return Sorted(flags);
    }

    /// <summary>The flags of etcd.yaml.</summary>
    public static IReadOnlyList<string> EtcdFlags(ControlPlaneNodeSpec spec)
    {
        var initialCluster = spec.InitialCluster.Count == 0
            ? $"{spec.NodeName}={spec.EtcdPeerUrl}"
            : string.Join(',', spec.InitialCluster.Select(member => member.ToString()));
        var flags = new List<(string, string)>
        {
            ("advertise-client-urls", spec.EtcdClientUrl),
            ("cert-file", spec.Pki("etcd/server.crt")),
            ("client-cert-auth", "true"),
            ("data-dir", spec.EtcdDataDir),
            ("experimental-initial-corrupt-check", "true"),
            ("experimental-watch-progress-notify-interval", "5s"),
            ("initial-advertise-peer-urls", spec.EtcdPeerUrl),
            ("initial-cluster", initialCluster),
            ("key-file", spec.Pki("etcd/server.key")),
            ("listen-client-urls", $"{spec.EtcdLocalClientUrl},{spec.EtcdClientUrl}"),
            ("listen-metrics-urls", ControlPlaneNodeSpec.Url("http", spec.Localhost, spec.EtcdMetricsPort)),
            ("listen-peer-urls", spec.EtcdPeerUrl),
            ("name", spec.NodeName),
            ("peer-cert-file", spec.Pki("etcd/peer.crt")),
            ("peer-client-cert-auth", "true"),
            ("peer-key-file", spec.Pki("etcd/peer.key")),
            ("peer-trusted-ca-file", spec.Pki("etcd/ca.crt")),
            ("snapshot-count", "10000"),
            ("trusted-ca-file", spec.Pki("etcd/ca.crt")),
        };

        // kubeadm writes the state only for a member joining an existing cluster; "new" is etcd's default.
        if (spec.InitialClusterState == EtcdInitialClusterState.Existing)
        {
            flags.Add(("initial-cluster-state", "existing"));
        }

        return Sorted(flags);
    }

    public static StaticPodManifest KubeApiServer(ControlPlaneNodeSpec spec)
    {
        const string name = "kube-apiserver";
        var probeHost = ProbeAddress(spec.AdvertiseAddress);
        var mounts = DistroCaMounts();
        mounts.Add(("k8s-certs", spec.CertificatesDir, "DirectoryOrCreate", true));
        var container = Container(
            name,
            [name, .. KubeApiServerFlags(spec)],
            $"{spec.ImageRepository}/{name}:{spec.KubernetesVersion}",
            Probe(probeHost, "/livez", spec.ApiServerBindPort, "HTTPS", 10, 8, 10),
            Probe(probeHost, "/readyz", spec.ApiServerBindPort, "HTTPS", 0, 3, 1),
            Probe(probeHost, "/livez", spec.ApiServerBindPort, "HTTPS", 10, StartupFailureThreshold, 10),
            Map(("cpu", String("250m"))),
            mounts);
        return Pod(name, [(AdvertiseAddressEndpointAnnotation, spec.ApiServerEndpoint)], container, mounts);
    }

    public static StaticPodManifest KubeControllerManager(ControlPlaneNodeSpec spec)
    {
        const string name = "kube-controller-manager";
        var probeHost = ProbeAddress(spec.ControllerManagerBindAddress);
        var mounts = DistroCaMounts();
        mounts.Add(("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", "DirectoryOrCreate", false));
        mounts.Add(("k8s-certs", spec.CertificatesDir, "DirectoryOrCreate", true));
        mounts.Add(("kubeconfig", NodePath.Combine(spec.KubernetesDir, KubeadmPaths.ControllerManagerConfFileName), "FileOrCreate", true));
        var container = Container(
            name,
            [name, .. KubeControllerManagerFlags(spec)],
            $"{spec.ImageRepository}/{name}:{spec.KubernetesVersion}",
            Probe(probeHost, "/healthz", spec.ControllerManagerSecurePort, "HTTPS", 10, 8, 10),
            null,
            Probe(probeHost, "/healthz", spec.ControllerManagerSecurePort, "HTTPS", 10, StartupFailureThreshold, 10),
            Map(("cpu", String("200m"))),
            mounts);
        return Pod(name, [], container, mounts);
    }

    public static StaticPodManifest KubeScheduler(ControlPlaneNodeSpec spec)
    {
        const string name = "kube-scheduler";
        var probeHost = ProbeAddress(spec.SchedulerBindAddress);
        List<(string, string, string, bool)> mounts =
            [("kubeconfig", NodePath.Combine(spec.KubernetesDir, KubeadmPaths.SchedulerConfFileName), "FileOrCreate", true)];
        var container = Container(
            name,
            [name, .. KubeSchedulerFlags(spec)],
            $"{spec.ImageRepository}/{name}:{spec.KubernetesVersion}",
            Probe(probeHost, "/healthz", spec.SchedulerSecurePort, "HTTPS", 10, 8, 10),
            null,
            Probe(probeHost, "/healthz", spec.SchedulerSecurePort, "HTTPS", 10, StartupFailureThreshold, 10),
            Map(("cpu", String("100m"))),
            mounts);
        return Pod(name, [], container, mounts);
    }

    public static StaticPodManifest Etcd(ControlPlaneNodeSpec spec)
    {
        const string name = "etcd";
        var certs = NodePath.Combine(spec.CertificatesDir, "etcd");

        // etcd's mounts keep kubeadm's order (data first); its volumes are sorted by name like the others.
        List<(string Name, string Path, string Type, bool ReadOnly)> mounts =
            [("etcd-data", spec.EtcdDataDir, "DirectoryOrCreate", false), ("etcd-certs", certs, "DirectoryOrCreate", false)];
        var container = Container(
            name,
            [name, .. EtcdFlags(spec)],
            $"{spec.ImageRepository}/etcd:{spec.EtcdImageTag}",
            Probe(spec.Localhost, "/livez", spec.EtcdMetricsPort, "HTTP", 10, 8, 10),
            Probe(spec.Localhost, "/readyz", spec.EtcdMetricsPort, "HTTP", 0, 3, 1),
            Probe(spec.Localhost, "/readyz", spec.EtcdMetricsPort, "HTTP", 10, StartupFailureThreshold, 10),
            Map(("cpu", String("100m")), ("memory", String("100Mi"))),
            mounts,
            sortMounts: false);
        return Pod(name, [(EtcdAdvertiseClientUrlsAnnotation, spec.EtcdClientUrl)], container, mounts);
    }

    private static int StartupFailureThreshold => (int)Math.Ceiling(ComponentHealthCheckSeconds / 10.0);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>kubeadm sorts base flags by name, then value, and writes them as --name=value.</summary>
    private static IReadOnlyList<string> Sorted(IEnumerable<(string Name, string Value)> flags) =>
        flags.OrderBy(f => f.Name, StringComparer.Ordinal).ThenBy(f => f.Value, StringComparer.Ordinal)
            .Select(f => $"--{f.Name}={f.Value}").ToList();

    /// <summary>A probe cannot target an unspecified bind address; kubeadm then leaves the host empty.</summary>
    private static string ProbeAddress(string address) => address is "0.0.0.0" or "::" ? "" : address;

    /// <summary>The CA certificate directories kubeadm mounts on a Debian or Ubuntu host.</summary>
    private static List<(string Name, string Path, string Type, bool ReadOnly)> DistroCaMounts() =>
    [
        ("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate", true),
        ("etc-ca-certificates", "/etc/ca-certificates", "DirectoryOrCreate", true),
        ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates", "DirectoryOrCreate", true),
        ("usr-share-ca-certificates", "/usr/share/ca-certificates", "DirectoryOrCreate", true),
    ];

    private static YamlMappingNode Probe(string host, string path, int port, string scheme, int initialDelaySeconds, int failureThreshold, int periodSeconds)
    {
        var probe = Map(
            ("failureThreshold", Plain(Number(failureThreshold))),
            ("httpGet", Map(
                ("host", String(host)),
                ("path", String(path)),
                ("port", Plain(Number(port))),
                ("scheme", String(scheme)))));
        if (initialDelaySeconds > 0)
        {
            probe.Add("initialDelaySeconds", Plain(Number(initialDelaySeconds)));
        }

        probe.Add("periodSeconds", Plain(Number(periodSeconds)));
        probe.Add("timeoutSeconds", Plain("15"));
        return probe;
    }

    private static YamlMappingNode Container(
        string name,
        IReadOnlyList<string> command,
        string image,
        YamlMappingNode liveness,
        YamlMappingNode? readiness,
        YamlMappingNode startup,
        YamlMappingNode requests,
        List<(string Name, string Path, string Type, bool ReadOnly)> mounts,
        bool sortMounts = true)
    {
        var ordered = sortMounts ? mounts.OrderBy(m => m.Name, StringComparer.Ordinal).ToList() : mounts;
        var container = Map(
            ("command", Strings(command)),
            ("image", String(image)),
            ("imagePullPolicy", String("IfNotPresent")),
            ("livenessProbe", liveness),
            ("name", String(name)));
        if (readiness is not null)
        {
            container.Add("readinessProbe", readiness);
        }

        container.Add("resources", Map(("requests", requests)));
        container.Add("startupProbe", startup);
        container.Add("volumeMounts", Seq(ordered.Select(m =>
        {
            var mount = Map(("mountPath", String(m.Path)), ("name", String(m.Name)));
            if (m.ReadOnly)
            {
                mount.Add("readOnly", Plain("true"));
            }

            return (YamlNode)mount;
        })));
        return container;
    }

    private static StaticPodManifest Pod(
        string name,
        IReadOnlyList<(string Key, string Value)> annotations,
        YamlMappingNode container,
        List<(string Name, string Path, string Type, bool ReadOnly)> mounts)
    {
        var metadata = new YamlMappingNode();
        if (annotations.Count > 0)
        {
            metadata.Add("annotations", Map(annotations.Select(a => (a.Key, (YamlNode)String(a.Value))).ToArray()));
        }

        metadata.Add("creationTimestamp", Plain("null"));
        metadata.Add("labels", Map(("component", String(name)), ("tier", String("control-plane"))));
        metadata.Add("name", String(name));
        metadata.Add("namespace", String("kube-system"));

        var root = Map(
            ("apiVersion", String("v1")),
            ("kind", String("Pod")),
            ("metadata", metadata),
            ("spec", Map(
                ("containers", Seq([container])),
                ("hostNetwork", Plain("true")),
                ("priority", Plain("2000001000")),
                ("priorityClassName", String("system-node-critical")),
                ("securityContext", Map(("seccompProfile", Map(("type", String("RuntimeDefault")))))),
                ("volumes", Seq(mounts.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => (YamlNode)Map(
                    ("hostPath", Map(("path", String(m.Path)), ("type", String(m.Type)))),
                    ("name", String(m.Name)))))))),
            ("status", EmptyMap()));
        return StaticPodManifest.Parse(YamlDocument.Write(root), name + ".yaml");
    }
}
