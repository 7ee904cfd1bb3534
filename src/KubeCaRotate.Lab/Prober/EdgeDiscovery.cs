using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// Finds the trust edges of a lab from what exists now: admin.conf, the static pod manifests, what each component
/// loaded at its start (<see cref="LoadedFiles"/>). An edge whose client has not started yet (no snapshot) is simply
/// absent, so edges appear as their components do.
/// </summary>
public sealed class EdgeDiscovery(LabTopology lab)
{
    private const string ApiServer = "kube-apiserver";
    private const string EtcdPod = "etcd";

    public IReadOnlyList<TrustEdge> Discover()
    {
        var edges = new List<TrustEdge>();
        edges.AddRange(AdminEdges());
        foreach (var node in lab.ControlPlanes)
        {
            edges.AddRange(KubeconfigClientEdges(node, "kube-controller-manager", EdgeKind.ControllerManager));
            edges.AddRange(KubeconfigClientEdges(node, "kube-scheduler", EdgeKind.Scheduler));
            edges.AddRange(EtcdClientEdges(node));
            edges.AddRange(EtcdPeerEdges(node));
            edges.AddRange(KubeletApiEdges(node));
        }
        foreach (var node in lab.Nodes)
        {
            edges.AddRange(KubeletEdges(node));
            edges.AddRange(PodEdges(node));
        }
        return edges;
    }

    /// <summary>"cp-1/kube-apiserver" for a node's API server URL, "endpoint" for the HA endpoint, else the URL's authority.</summary>
    public string ApiServerName(Uri url)
    {
        if (url.Host == lab.EndpointAddress && url.Port == lab.EndpointPort) return "endpoint";
        var node = lab.ControlPlanes.FirstOrDefault(n => n.Address == url.Host && n.ApiServerPort == url.Port);
        return node is null ? url.Authority : $"{node.Name}/{ApiServer}";
    }

    private IEnumerable<TrustEdge> AdminEdges()
    {
        var admin = lab.AdminKubeconfig;
        if (!File.Exists(admin)) yield break;
        // kubectl reads admin.conf at every invocation: the file as it is on disk now.
        var credentials = new EdgeCredentials { TrustKubeconfig = admin, ClientKubeconfig = admin };
        foreach (var node in lab.ControlPlanes)
            yield return new TrustEdge(EdgeKind.Admin, "admin", $"{node.Name}/{ApiServer}", new Uri(node.ApiServerUrl + "/api"), credentials);
        yield return new TrustEdge(EdgeKind.Endpoint, "admin", "endpoint", new Uri(lab.EndpointUrl + "/api"), credentials);
    }

    /// <summary>The controller-manager or scheduler: the kubeconfig named by --kubeconfig as loaded at its start (CA and embedded client certificate).</summary>
    private IEnumerable<TrustEdge> KubeconfigClientEdges(LabNode node, string pod, EdgeKind kind)
    {
        var kubeconfigPath = Manifest(node, pod)?.GetFlag("kubeconfig");
        if (kubeconfigPath is null || LoadedFiles.Find(lab, node.Name, pod, kubeconfigPath) is not { } loaded) yield break;
        var server = ServerOf(loaded);
        if (server is null) yield break;
        yield return new TrustEdge(kind, $"{node.Name}/{pod}", ApiServerName(server), new Uri(server, "/api"),
            new EdgeCredentials { TrustKubeconfig = loaded, ClientKubeconfig = loaded });
    }

    /// <summary>The API server to each of its --etcd-servers, with the --etcd-cafile/certfile/keyfile it loaded at its start.</summary>
    private IEnumerable<TrustEdge> EtcdClientEdges(LabNode node)
    {
        var manifest = Manifest(node, ApiServer);
        if (manifest is null) yield break;
        var ca = Loaded(node, ApiServer, manifest.GetFlag("etcd-cafile"));
        var cert = Loaded(node, ApiServer, manifest.GetFlag("etcd-certfile"));
        var key = Loaded(node, ApiServer, manifest.GetFlag("etcd-keyfile"));
        if (ca is null || cert is null || key is null) yield break;
        var credentials = new EdgeCredentials { AsEtcdClient = true, TrustBundleFile = ca, ClientCertificateFile = cert, ClientKeyFile = key };
        foreach (var server in (manifest.GetFlag("etcd-servers") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps) continue;
            yield return new TrustEdge(EdgeKind.EtcdClient, $"{node.Name}/{ApiServer}", EtcdName(node, url), new Uri(url, "/health"), credentials);
        }
    }

    /// <summary>
    /// This member as a peer client of every other member: its current --peer-cert-file/--peer-key-file (etcd re-reads
    /// them on new handshakes) and the --peer-trusted-ca-file it loaded at its start; the server side is the real etcd.
    /// </summary>
    private IEnumerable<TrustEdge> EtcdPeerEdges(LabNode node)
    {
        var manifest = Manifest(node, EtcdPod);
        if (manifest is null) yield break;
        var ca = Loaded(node, EtcdPod, manifest.GetFlag("peer-trusted-ca-file"));
        var cert = Current(node, manifest.GetFlag("peer-cert-file"));
        var key = Current(node, manifest.GetFlag("peer-key-file"));
        if (ca is null || cert is null || key is null) yield break;
        var credentials = new EdgeCredentials { AsEtcdClient = true, TrustBundleFile = ca, ClientCertificateFile = cert, ClientKeyFile = key };
        foreach (var peer in lab.ControlPlanes.Where(p => p.Name != node.Name))
        {
            var peerUrl = Manifest(peer, EtcdPod)?.GetFlag("listen-peer-urls")?.Split(',')[0];
            if (peerUrl is null || !Uri.TryCreate(peerUrl, UriKind.Absolute, out var url)) continue;
            yield return new TrustEdge(EdgeKind.EtcdPeer, $"{node.Name}/{EtcdPod}", $"{peer.Name}/{EtcdPod}", new Uri(url, "/version"), credentials);
        }
    }

    /// <summary>
    /// The API server to every kubelet that runs (it has loaded its kubelet.conf): apiserver-kubelet-client as the file is
    /// now (reloaded on a timer); the kubelet's serving certificate is only checked when --kubelet-certificate-authority is set.
    /// </summary>
    private IEnumerable<TrustEdge> KubeletApiEdges(LabNode node)
    {
        var manifest = Manifest(node, ApiServer);
        if (manifest is null || !Directory.Exists(LoadedFiles.Dir(lab, node.Name, ApiServer))) yield break;
        var cert = Current(node, manifest.GetFlag("kubelet-client-certificate"));
        var key = Current(node, manifest.GetFlag("kubelet-client-key"));
        if (cert is null || key is null) yield break;
        var authority = manifest.GetFlag("kubelet-certificate-authority");
        var credentials = new EdgeCredentials
        {
            ClientCertificateFile = cert, ClientKeyFile = key,
            VerifyServer = authority is not null, TrustBundleFile = authority is null ? null : Loaded(node, ApiServer, authority),
        };
        if (credentials.VerifyServer && credentials.TrustBundleFile is null) yield break;
        foreach (var kubelet in lab.Nodes.Where(KubeletRuns))
            yield return new TrustEdge(EdgeKind.KubeletApi, $"{node.Name}/{ApiServer}", $"{kubelet.Name}/kubelet", new Uri($"https://{kubelet.Address}:{kubelet.KubeletPort}/pods"), credentials);
    }

    /// <summary>
    /// The kubelet to the API server its kubelet.conf names: the CA of kubelet.conf as loaded at its start, the client
    /// certificate as the file is now (the kubelet's certificate manager swaps a renewed one in memory).
    /// </summary>
    private IEnumerable<TrustEdge> KubeletEdges(LabNode node)
    {
        var nodePath = Path.Join(KubeadmPaths.DefaultKubernetesDir, KubeadmPaths.KubeletConfFileName);
        if (LoadedFiles.Find(lab, node.Name, "kubelet", nodePath) is not { } loaded) yield break;
        Kubeconfig config;
        try
        {
            config = Kubeconfig.Parse(File.ReadAllBytes(loaded), loaded);
        }
        catch (Exception e) when (e is IOException or LayoutFormatException)
        {
            yield break;
        }
        if (config.CurrentCluster?.Server is not { } server || !Uri.TryCreate(server, UriKind.Absolute, out var url) || config.CurrentUser is not { } user) yield break;
        var credentials = new EdgeCredentials { TrustKubeconfig = loaded };
        if (user.ClientCertificate is { } certPath)
        {
            var cert = Current(node, certPath);
            if (cert is null) yield break;
            credentials = credentials with { ClientCertificateFile = cert, ClientKeyFile = Current(node, user.ClientKey ?? certPath) ?? cert };
        }
        else
        {
            credentials = credentials with { ClientKubeconfig = loaded };
        }
        yield return new TrustEdge(EdgeKind.Kubelet, $"{node.Name}/kubelet", ApiServerName(url), new Uri(url, "/api"), credentials);
    }

    /// <summary>
    /// Each workload pod the node's kubelet runs (its state file under DIR/run/NODE/workloads) to the server it calls,
    /// with the ca.crt and token it read at its start. A pod that loaded no token makes no calls and has no edge.
    /// </summary>
    private IEnumerable<TrustEdge> PodEdges(LabNode node)
    {
        var dir = WorkloadPods.StateDir(lab, node.Name);
        if (!Directory.Exists(dir)) yield break;
        foreach (var file in Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            var pod = WorkloadPodState.Read(file);
            if (pod?.CaFile is null || pod.TokenFile is null || !File.Exists(pod.CaFile) || !File.Exists(pod.TokenFile)) continue;
            if (!Uri.TryCreate(pod.Server, UriKind.Absolute, out var url)) continue;
            yield return new TrustEdge(EdgeKind.Pod, $"{pod.Namespace}/{pod.Name}", ApiServerName(url), new Uri(url, "/api"),
                new EdgeCredentials { TrustBundleFile = pod.CaFile, TokenFile = pod.TokenFile });
        }
    }

    private bool KubeletRuns(LabNode node) => Directory.Exists(LoadedFiles.Dir(lab, node.Name, "kubelet"));

    private string EtcdName(LabNode apiServerNode, Uri url)
    {
        var member = lab.ControlPlanes.FirstOrDefault(n => n.EtcdClientPort == url.Port && (n.Address == url.Host || (url.IsLoopback && n.Name == apiServerNode.Name)))
            ?? lab.ControlPlanes.FirstOrDefault(n => n.EtcdClientPort == url.Port);
        return member is null ? url.Authority : $"{member.Name}/{EtcdPod}";
    }

    internal StaticPodManifest? Manifest(LabNode node, string pod)
    {
        var path = Path.Join(lab.NodeRoot(node), KubeadmPaths.Default.ManifestsDir, pod + ".yaml");
        try
        {
            return File.Exists(path) ? StaticPodManifest.Parse(File.ReadAllBytes(path), path) : null;
        }
        catch (Exception e) when (e is IOException or LayoutFormatException)
        {
            return null; // being rewritten; the next discovery sees it
        }
    }

    private string? Loaded(LabNode node, string pod, string? nodePath) =>
        nodePath is null ? null : LoadedFiles.Find(lab, node.Name, pod, nodePath);

    internal string? Current(LabNode node, string? nodePath)
    {
        if (nodePath is null) return null;
        var path = Path.Join(lab.NodeRoot(node), nodePath);
        return File.Exists(path) ? path : null;
    }

    private static Uri? ServerOf(string kubeconfig)
    {
        try
        {
            var server = Kubeconfig.Parse(File.ReadAllBytes(kubeconfig), kubeconfig).CurrentCluster?.Server;
            return server is not null && Uri.TryCreate(server, UriKind.Absolute, out var url) ? url : null;
        }
        catch (Exception e) when (e is IOException or LayoutFormatException)
        {
            return null;
        }
    }
}
