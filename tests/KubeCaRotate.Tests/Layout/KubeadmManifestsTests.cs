using KubeCaRotate.Layout;

namespace KubeCaRotate.Tests.Layout;

public sealed class KubeadmManifestsTests
{
    /// <summary>A lab node: its own loopback address and ports, none of kubeadm's defaults.</summary>
    private static readonly ControlPlaneNodeSpec LabNode = new()
    {
        NodeName = "cp-2",
        AdvertiseAddress = "127.0.0.12",
        ApiServerBindPort = 16443,
        EtcdClientPort = 12379,
        EtcdPeerPort = 12380,
        EtcdMetricsPort = 12381,
        ControllerManagerSecurePort = 20257,
        SchedulerSecurePort = 20259,
        CertificatesDir = "/etc/kubernetes/pki-lab",
        ServiceCidr = "10.112.0.0/12",
        ClusterCidr = "10.244.0.0/16",
        ClusterName = "lab",
        InitialCluster = [new("cp-1", "https://127.0.0.11:11380"), new("cp-2", "https://127.0.0.12:12380")],
        InitialClusterState = EtcdInitialClusterState.Existing,
    };

    [Fact]
    public void ApiServerCarriesKubeadmsFlagsInKubeadmsOrder()
    {
        var spec = new ControlPlaneNodeSpec { NodeName = "cp-1", AdvertiseAddress = "10.0.0.10" };

        // The command of a kubeadm 1.30 init with default settings.
        string[] expected =
        [
            "kube-apiserver",
            "--advertise-address=10.0.0.10",
            "--allow-privileged=true",
            "--authorization-mode=Node,RBAC",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            "--enable-admission-plugins=NodeRestriction",
            "--enable-bootstrap-token-auth=true",
            "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
            "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
            "--etcd-servers=https://127.0.0.1:2379",
            "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
            "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
            "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
            "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-username-headers=X-Remote-User",
            "--secure-port=6443",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
            "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
            "--service-cluster-ip-range=10.96.0.0/12",
            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
            "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
        ];
        Assert.Equal(expected, KubeadmManifests.KubeApiServer(spec).Command);
    }

    [Fact]
    public void EveryAddressPortAndPathComesFromTheSpec()
    {
        var manifests = KubeadmManifests.All(LabNode);

        foreach (var (path, manifest) in manifests)
        {
            var text = manifest.ToYaml();
            Assert.StartsWith("/etc/kubernetes/manifests/", path);
            foreach (var kubeadmDefault in new[] { ":6443", ":2379", ":2380", ":2381", "10257", "10259", "/etc/kubernetes/pki/", "10.96." })
            {
                Assert.DoesNotContain(kubeadmDefault, text);
            }
        }

        var apiServer = manifests["/etc/kubernetes/manifests/kube-apiserver.yaml"];
        Assert.Equal("16443", apiServer.GetFlag("secure-port"));
        Assert.Equal("https://127.0.0.1:12379", apiServer.GetFlag("etcd-servers"));
        Assert.Equal("/etc/kubernetes/pki-lab/ca.crt", apiServer.GetFlag("client-ca-file"));
        Assert.Equal("127.0.0.12:16443", apiServer.GetAnnotation(KubeadmManifests.AdvertiseAddressEndpointAnnotation));

        var etcd = manifests["/etc/kubernetes/manifests/etcd.yaml"];
        Assert.Equal("https://127.0.0.1:12379,https://127.0.0.12:12379", etcd.GetFlag("listen-client-urls"));
        Assert.Equal("https://127.0.0.12:12380", etcd.GetFlag("listen-peer-urls"));
        Assert.Equal("http://127.0.0.1:12381", etcd.GetFlag("listen-metrics-urls"));
        Assert.Equal("cp-1=https://127.0.0.11:11380,cp-2=https://127.0.0.12:12380", etcd.GetFlag("initial-cluster"));
        Assert.Equal("existing", etcd.GetFlag("initial-cluster-state"));
        Assert.Equal("https://127.0.0.12:12379", etcd.GetAnnotation(KubeadmManifests.EtcdAdvertiseClientUrlsAnnotation));

        var controllerManager = manifests["/etc/kubernetes/manifests/kube-controller-manager.yaml"];
        Assert.Equal("20257", controllerManager.GetFlag("secure-port"));
        Assert.Equal("lab", controllerManager.GetFlag("cluster-name"));
        Assert.Equal("10.244.0.0/16", controllerManager.GetFlag("cluster-cidr"));
        Assert.Equal("true", controllerManager.GetFlag("allocate-node-cidrs"));
        Assert.Equal("20259", manifests["/etc/kubernetes/manifests/kube-scheduler.yaml"].GetFlag("secure-port"));
    }

    [Fact]
    public void FlagsAreTheReferenceFlagsAndSorted()
    {
        var manifests = KubeadmManifests.All(LabNode);
        var pki = "/etc/kubernetes/pki-lab";
        var expected = new Dictionary<string, (string Flag, string Value)[]>
        {
            ["kube-apiserver"] =
            [
                ("client-ca-file", $"{pki}/ca.crt"), ("tls-cert-file", $"{pki}/apiserver.crt"), ("tls-private-key-file", $"{pki}/apiserver.key"),
                ("kubelet-client-certificate", $"{pki}/apiserver-kubelet-client.crt"), ("kubelet-client-key", $"{pki}/apiserver-kubelet-client.key"),
                ("proxy-client-cert-file", $"{pki}/front-proxy-client.crt"), ("proxy-client-key-file", $"{pki}/front-proxy-client.key"),
                ("requestheader-client-ca-file", $"{pki}/front-proxy-ca.crt"), ("requestheader-allowed-names", "front-proxy-client"),
                ("etcd-cafile", $"{pki}/etcd/ca.crt"), ("etcd-certfile", $"{pki}/apiserver-etcd-client.crt"), ("etcd-keyfile", $"{pki}/apiserver-etcd-client.key"),
                ("service-account-key-file", $"{pki}/sa.pub"), ("service-account-signing-key-file", $"{pki}/sa.key"),
                ("service-account-issuer", "https://kubernetes.default.svc.cluster.local"), ("enable-bootstrap-token-auth", "true"),
            ],
            ["kube-controller-manager"] =
            [
                ("kubeconfig", "/etc/kubernetes/controller-manager.conf"), ("authentication-kubeconfig", "/etc/kubernetes/controller-manager.conf"),
                ("authorization-kubeconfig", "/etc/kubernetes/controller-manager.conf"), ("client-ca-file", $"{pki}/ca.crt"),
                ("requestheader-client-ca-file", $"{pki}/front-proxy-ca.crt"), ("root-ca-file", $"{pki}/ca.crt"),
                ("service-account-private-key-file", $"{pki}/sa.key"), ("cluster-signing-cert-file", $"{pki}/ca.crt"),
                ("cluster-signing-key-file", $"{pki}/ca.key"), ("use-service-account-credentials", "true"), ("controllers", "*,bootstrapsigner,tokencleaner"),
            ],
            ["kube-scheduler"] =
            [
                ("kubeconfig", "/etc/kubernetes/scheduler.conf"), ("authentication-kubeconfig", "/etc/kubernetes/scheduler.conf"),
                ("authorization-kubeconfig", "/etc/kubernetes/scheduler.conf"),
            ],
            ["etcd"] =
            [
                ("cert-file", $"{pki}/etcd/server.crt"), ("key-file", $"{pki}/etcd/server.key"), ("trusted-ca-file", $"{pki}/etcd/ca.crt"),
                ("client-cert-auth", "true"), ("peer-cert-file", $"{pki}/etcd/peer.crt"), ("peer-key-file", $"{pki}/etcd/peer.key"),
                ("peer-trusted-ca-file", $"{pki}/etcd/ca.crt"), ("peer-client-cert-auth", "true"), ("name", "cp-2"),
            ],
        };

        foreach (var manifest in manifests.Values)
        {
            // Parsing the written text again gives the same document.
            var reread = StaticPodManifest.Parse(manifest.ToYaml());
            Assert.Equal(manifest.ToYaml(), reread.ToYaml());
            Assert.Equal(manifest.PodName, reread.Binary);

            foreach (var (flag, value) in expected[manifest.PodName!])
            {
                Assert.Equal(value, reread.GetFlag(flag));
            }

            var names = reread.Flags.Select(f => f.Name).ToList();
            Assert.Equal(names.Order(StringComparer.Ordinal), names);
            Assert.Equal("control-plane", reread.Labels["tier"]);
            Assert.Equal(manifest.PodName, reread.Labels["component"]);
            Assert.Contains("priorityClassName: system-node-critical", reread.ToYaml());
            Assert.Contains("hostNetwork: true", reread.ToYaml());
        }

        Assert.False(manifests["/etc/kubernetes/manifests/kube-scheduler.yaml"].HasFlag("client-ca-file"));
    }

    [Fact]
    public void EveryFileAFlagNamesIsMountedIntoThePod()
    {
        foreach (var manifest in KubeadmManifests.All(LabNode).Values)
        {
            var files = manifest.Flags.Where(f => f.Value is { } v && v.StartsWith('/') && !v.StartsWith("/var/lib/etcd", StringComparison.Ordinal));
            foreach (var flag in files)
            {
                Assert.True(manifest.GetHostPathFor(flag.Value!) == flag.Value, $"{manifest.PodName}: --{flag.Name}={flag.Value} is not mounted");
            }
        }

        var etcd = KubeadmManifests.Etcd(LabNode);
        Assert.Equal(["etcd-certs", "etcd-data"], etcd.HostPathVolumes.Select(v => v.Name));
        Assert.Equal("/etc/kubernetes/pki-lab/etcd", etcd.HostPathVolumes[0].Path);
        Assert.Equal(["kubeconfig"], KubeadmManifests.KubeScheduler(LabNode).HostPathVolumes.Select(v => v.Name));
    }

    [Fact]
    public void SingleMemberEtcdAndExternalCa()
    {
        var spec = new ControlPlaneNodeSpec { NodeName = "cp-1", AdvertiseAddress = "10.0.0.10", ExternalCa = true };

        var etcd = KubeadmManifests.Etcd(spec);
        Assert.Equal("cp-1=https://10.0.0.10:2380", etcd.GetFlag("initial-cluster"));
        Assert.False(etcd.HasFlag("initial-cluster-state"));

        var controllerManager = KubeadmManifests.KubeControllerManager(spec);
        Assert.Equal("", controllerManager.GetFlag("cluster-signing-cert-file"));
        Assert.Equal("", controllerManager.GetFlag("cluster-signing-key-file"));
        Assert.False(controllerManager.HasFlag("secure-port"));
        Assert.False(controllerManager.HasFlag("cluster-cidr"));
    }

    [Fact]
    public void IPv6UsesTheIPv6Localhost()
    {
        var spec = new ControlPlaneNodeSpec { NodeName = "cp-1", AdvertiseAddress = "fd00::10" };

        Assert.Equal("https://[::1]:2379", KubeadmManifests.KubeApiServer(spec).GetFlag("etcd-servers"));
        Assert.Equal("https://[::1]:2379,https://[fd00::10]:2379", KubeadmManifests.Etcd(spec).GetFlag("listen-client-urls"));
        Assert.Equal("[fd00::10]:6443", KubeadmManifests.KubeApiServer(spec).GetAnnotation(KubeadmManifests.AdvertiseAddressEndpointAnnotation));
    }
}
