using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;

namespace KubeCaRotate.Trust;

/// <summary>
/// Finds every connection of a kubeadm cluster from the files on disk (manifests, kubeconfigs, kubelet configs) and
/// the objects, and states each side's material through a <see cref="WorldView"/>. The topology always comes from
/// disk; only the certificates and bundles differ between the loaded and the on-disk view.
/// </summary>
internal sealed class EdgeBuilder(TrustWorld world, KubeadmPaths paths, CertificateCache cache)
{
    private const string ApiServer = ComponentReloads.ApiServer;
    private const string Etcd = ComponentReloads.Etcd;
    public const string InClusterHost = "kubernetes.default.svc";

    private sealed record ApiServerInfo(string Node, string Host, int Port, StaticPodManifest Manifest);

    private sealed record EtcdInfo(string Node, IReadOnlyList<Uri> ClientUrls, Uri? PeerUrl, StaticPodManifest Manifest);

    private List<ApiServerInfo>? _apiServers;
    private List<EtcdInfo>? _etcds;

    public List<string> Problems { get; } = [];

    public IReadOnlyList<EdgeDraft> Build(WorldView view)
    {
        _apiServers ??= FindApiServers();
        _etcds ??= FindEtcds();
        var edges = new List<EdgeDraft>();
        if (world.OperatorKubeconfig is { } op)
            edges.AddRange(KubeconfigEdges(view, EdgeKind.Admin, "admin", "the operator's kubeconfig " + op.Path, op.Content, op.Path, null, null, world.OperatorContext));
        foreach (var node in world.Nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            foreach (var (file, label) in new[] { (paths.AdminConf, "admin.conf"), (paths.SuperAdminConf, "super-admin.conf") })
                if (node.File(file) is { } content)
                    edges.AddRange(KubeconfigEdges(view, EdgeKind.Admin, $"{node.Name}/{label}", $"{label} on {node.Name}", content, file, null, null, null));
            foreach (var cni in node.Files.Keys.Where(p => p.StartsWith(ClusterReader.CniDir + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                if (cache.Kubeconfig(node.File(cni)!, cni).Config is { CurrentCluster.Server: not null })
                    edges.AddRange(KubeconfigEdges(view, EdgeKind.Admin, $"{node.Name}/cni/{Path.GetFileName(cni)}", $"CNI kubeconfig {cni} on {node.Name}", node.File(cni)!, cni, null, null, null));
            if (Manifest(node, ComponentReloads.ControllerManager) is { } kcm && kcm.GetFlag("kubeconfig") is { } kcmConf)
                edges.AddRange(ComponentKubeconfigEdges(view, node, ComponentReloads.ControllerManager, EdgeKind.ControllerManager, kcmConf));
            if (Manifest(node, ComponentReloads.Scheduler) is { } sched && sched.GetFlag("kubeconfig") is { } schedConf)
                edges.AddRange(ComponentKubeconfigEdges(view, node, ComponentReloads.Scheduler, EdgeKind.Scheduler, schedConf));
            edges.AddRange(KubeletEdges(view, node));
        }
        foreach (var api in _apiServers)
        {
            edges.AddRange(KubeletApiEdges(view, api));
            edges.AddRange(EtcdClientEdges(view, api));
            edges.AddRange(AggregatorEdges(view, api));
        }
        foreach (var member in _etcds) edges.AddRange(EtcdPeerEdges(view, member));
        edges.AddRange(PodEdges(view));
        return edges;
    }

    private StaticPodManifest? Manifest(TrustWorld.NodeState node, string pod)
    {
        var path = NodePathCombine(paths.ManifestsDir, pod + ".yaml");
        if (node.File(path) is not { } content) return null;
        try
        {
            return StaticPodManifest.Parse(content, $"{path} on {node.Name}");
        }
        catch (LayoutFormatException e)
        {
            Problems.Add(e.Message);
            return null;
        }
    }

    private static string NodePathCombine(string dir, string name) => dir.TrimEnd('/') + "/" + name;

    private List<ApiServerInfo> FindApiServers()
    {
        var list = new List<ApiServerInfo>();
        foreach (var node in world.Nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            if (Manifest(node, ApiServer) is not { } m) continue;
            var host = m.GetFlag("advertise-address") ?? node.Address ?? node.Name;
            var port = int.TryParse(m.GetFlag("secure-port"), out var p) ? p : 6443;
            list.Add(new ApiServerInfo(node.Name, host, port, m));
        }
        return list;
    }

    private List<EtcdInfo> FindEtcds()
    {
        var list = new List<EtcdInfo>();
        foreach (var node in world.Nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            if (Manifest(node, Etcd) is not { } m) continue;
            var clients = Urls(m.GetFlag("advertise-client-urls")).Concat(Urls(m.GetFlag("listen-client-urls"))).ToList();
            var peer = Urls(m.GetFlag("initial-advertise-peer-urls")).Concat(Urls(m.GetFlag("listen-peer-urls"))).FirstOrDefault();
            list.Add(new EtcdInfo(node.Name, clients, peer, m));
        }
        return list;
    }

    private static IEnumerable<Uri> Urls(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var url) ? url : null).Where(u => u is not null)!;

    /// <summary>The API servers a URL reaches: one when it names an API server (or loopback on its node), all behind the HA endpoint otherwise.</summary>
    private (string Name, IReadOnlyList<ApiServerInfo> Backends) Resolve(Uri url, string? fromNode)
    {
        var exact = _apiServers!.FirstOrDefault(a => a.Port == url.Port && string.Equals(a.Host, url.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase));
        if (exact is null && url.IsLoopback && fromNode is not null)
            exact = _apiServers!.FirstOrDefault(a => a.Node == fromNode && a.Port == url.Port);
        return exact is not null ? ($"{exact.Node}/{ApiServer}", [exact]) : ("endpoint", _apiServers!);
    }

    private Material ApiServing(WorldView view, ApiServerInfo api) => FlagFile(view, api.Node, ApiServer, api.Manifest, "tls-cert-file");

    private Material ApiClientCa(WorldView view, ApiServerInfo api) => FlagFile(view, api.Node, ApiServer, api.Manifest, "client-ca-file");

    private static Material FlagFile(WorldView view, string node, string component, StaticPodManifest manifest, string flag)
    {
        var path = manifest.GetFlag(flag);
        if (string.IsNullOrEmpty(path)) return new Material(null, $"--{flag} of {Describe.Component(component, node)} (not set)", null, null);
        var m = view.File(node, component, path, ComponentReloads.ReadAtStart(component, flag));
        return m with { Where = $"--{flag} {m.Where}" };
    }

    /// <summary>A kubeconfig client to the API server(s) its server URL reaches.</summary>
    private IEnumerable<EdgeDraft> KubeconfigEdges(WorldView view, EdgeKind kind, string client, string description, byte[] diskContent, string source,
        (string Node, string Component, string Path)? readAtStartBy, byte[]? loadedContent, string? context)
    {
        var (config, error) = cache.Kubeconfig(diskContent, source);
        if (config is null)
        {
            Problems.Add(error!);
            yield break;
        }
        var ctx = context is null ? config.CurrentContextEntry : config.GetContext(context);
        var cluster = ctx?.Cluster is { } cn ? config.GetCluster(cn) : null;
        if (cluster?.Server is not { } server || !Uri.TryCreate(server, UriKind.Absolute, out var url)) yield break;
        var user = ctx?.User is { } un ? config.GetUser(un) : null;
        var (target, backends) = Resolve(url, readAtStartBy?.Node ?? FromNodeOf(client));
        if (backends.Count == 0) yield break;

        // The material as the client sees it in this view.
        Material trust, presents;
        string? unknown = null, startNote = null;
        var loadedConfig = config;
        if (readAtStartBy is { } r && view.Loaded)
        {
            var m = view.File(r.Node, r.Component, r.Path, readAtStart: true);
            unknown = m.Unknown;
            startNote = m.Note;
            loadedConfig = m.Content is null ? null : cache.Kubeconfig(m.Content, source).Config;
        }
        var where = readAtStartBy is { } rr ? $"{rr.Path} on {rr.Node}" : description;
        var loadedCluster = loadedConfig is null ? null : (ctx?.Cluster is { } c2 ? loadedConfig.GetCluster(c2) : null);
        var loadedUser = loadedConfig is null ? null : (ctx?.User is { } u2 ? loadedConfig.GetUser(u2) : null);
        if (unknown is not null)
        {
            trust = new Material(null, where, unknown, null);
            presents = new Material(null, where, unknown, null);
        }
        else
        {
            trust = KubeconfigCa(view, loadedCluster, where, readAtStartBy);
            presents = KubeconfigClientCert(view, loadedUser ?? user, where, readAtStartBy, client);
        }
        var notes = new List<string>();
        if (startNote is not null) notes.Add(startNote);
        var clientDesc = description;
        var checks = new List<Check>();
        foreach (var b in backends)
        {
            var serverDesc = Describe.Component(ApiServer, b.Node);
            if (cluster.InsecureSkipTlsVerify)
                checks.Add(new Check(clientDesc, serverDesc, trust, ApiServing(view, b), TrustBundleVerifier.ServerAuthOid, url.Host, "insecure-skip-tls-verify is set: the server is not verified"));
            else
                checks.Add(new Check(clientDesc, serverDesc, trust, ApiServing(view, b), TrustBundleVerifier.ServerAuthOid, url.Host));
            if (user is { ClientCertificateData: null, ClientCertificate: null })
                checks.Add(new Check(serverDesc, clientDesc, ApiClientCa(view, b), presents, TrustBundleVerifier.ClientAuthOid, null, "the client authenticates with a token, not a certificate"));
            else
                checks.Add(new Check(serverDesc, clientDesc, ApiClientCa(view, b), presents, TrustBundleVerifier.ClientAuthOid, null));
        }
        yield return new EdgeDraft($"{client}->{target}", kind, client, target, clientDesc, target == "endpoint" ? $"the HA endpoint {url.Authority}" : Describe.Component(ApiServer, backends[0].Node), checks, notes);
    }

    private string? FromNodeOf(string client) => client.Contains('/') ? client[..client.IndexOf('/')] : null;

    private Material KubeconfigCa(WorldView view, KubeconfigCluster? cluster, string where, (string Node, string Component, string Path)? reader)
    {
        if (cluster is null) return new Material(null, where, null, null);
        if (cluster.CertificateAuthorityData is { } data) return new Material(data, $"certificate-authority-data of {where}", null, null);
        if (cluster.CertificateAuthority is { } path && reader is { } r) return view.File(r.Node, r.Component, path, readAtStart: true);
        if (cluster.CertificateAuthority is { } p2) return new Material(null, $"{p2} named by {where}", null, null);
        return new Material(null, $"certificate-authority-data of {where} (none)", null, null);
    }

    private Material KubeconfigClientCert(WorldView view, KubeconfigUser? user, string where, (string Node, string Component, string Path)? reader, string client)
    {
        if (user is null) return new Material(null, where, null, null);
        if (user.ClientCertificateData is { } data) return new Material(data, $"client-certificate-data of {where}", null, null);
        if (user.ClientCertificate is { } path)
        {
            var node = reader?.Node ?? FromNodeOf(client);
            if (node is null) return new Material(null, $"{path} named by {where}", null, null);
            var component = reader?.Component ?? "kubectl";
            // The kubelet's certificate manager swaps a renewed certificate in; others read the path at start.
            var readAtStart = component != ComponentReloads.Kubelet && reader is not null;
            return view.File(node, component, path, readAtStart);
        }
        return new Material(null, where, null, null);
    }

    private IEnumerable<EdgeDraft> ComponentKubeconfigEdges(WorldView view, TrustWorld.NodeState node, string component, EdgeKind kind, string path)
    {
        if (node.File(path) is not { } content) yield break;
        foreach (var e in KubeconfigEdges(view, kind, $"{node.Name}/{component}", Describe.Component(component, node.Name), content, path, (node.Name, component, path), null, null))
            yield return e;
    }

    private IEnumerable<EdgeDraft> KubeletEdges(WorldView view, TrustWorld.NodeState node)
    {
        if (node.File(paths.KubeletConf) is not { } content) yield break;
        foreach (var e in KubeconfigEdges(view, EdgeKind.Kubelet, $"{node.Name}/kubelet", Describe.Component(ComponentReloads.Kubelet, node.Name), content, paths.KubeletConf, (node.Name, ComponentReloads.Kubelet, paths.KubeletConf), null, null))
            yield return e;
    }

    private KubeletConfigFile? KubeletConfig(TrustWorld.NodeState node)
    {
        if (node.File(paths.KubeletConfigFile) is not { } content) return null;
        try
        {
            return KubeletConfigFile.Parse(content, $"{paths.KubeletConfigFile} on {node.Name}");
        }
        catch (LayoutFormatException e)
        {
            Problems.Add(e.Message);
            return null;
        }
    }

    private IEnumerable<EdgeDraft> KubeletApiEdges(WorldView view, ApiServerInfo api)
    {
        var client = $"{api.Node}/{ApiServer}";
        var clientDesc = Describe.Component(ApiServer, api.Node);
        var presents = FlagFile(view, api.Node, ApiServer, api.Manifest, "kubelet-client-certificate");
        var authority = api.Manifest.GetFlag("kubelet-certificate-authority");
        foreach (var node in world.Nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            if (KubeletConfig(node) is not { } config) continue;
            var serverDesc = Describe.Component(ComponentReloads.Kubelet, node.Name);
            var clientCa = config.ClientCAFile is { } caPath
                ? view.File(node.Name, ComponentReloads.Kubelet, caPath, readAtStart: false) with { Where = $"clientCAFile {caPath} on {node.Name}" }
                : new Material(null, $"clientCAFile of {paths.KubeletConfigFile} on {node.Name} (not set)", null, null);
            var servingPath = config.TlsCertFile ?? paths.KubeletServingCert;
            var serving = view.File(node.Name, ComponentReloads.Kubelet, servingPath, readAtStart: true);
            var host = world.ObjectFacts?.Nodes.FirstOrDefault(n => n.Name == node.Name)?.InternalIp ?? node.Address ?? config.Address ?? node.Name;
            var checks = new List<Check>
            {
                authority is null
                    ? new Check(clientDesc, serverDesc, new Material(null, "--kubelet-certificate-authority (not set)", null, null), serving, TrustBundleVerifier.ServerAuthOid, host,
                        "the API server has no --kubelet-certificate-authority, so it does not verify kubelet serving certificates")
                    : new Check(clientDesc, serverDesc, FlagFile(view, api.Node, ApiServer, api.Manifest, "kubelet-certificate-authority"), serving, TrustBundleVerifier.ServerAuthOid, host),
                new Check(serverDesc, clientDesc, clientCa, presents, TrustBundleVerifier.ClientAuthOid, null),
            };
            yield return new EdgeDraft($"{client}->{node.Name}/kubelet", EdgeKind.KubeletApi, client, $"{node.Name}/kubelet", clientDesc, serverDesc, checks, []);
        }
    }

    private IEnumerable<EdgeDraft> EtcdClientEdges(WorldView view, ApiServerInfo api)
    {
        var client = $"{api.Node}/{ApiServer}";
        var clientDesc = Describe.Component(ApiServer, api.Node);
        foreach (var url in Urls(api.Manifest.GetFlag("etcd-servers")).Where(u => u.Scheme == Uri.UriSchemeHttps))
        {
            var member = _etcds!.FirstOrDefault(e => e.ClientUrls.Any(c => c.Port == url.Port && string.Equals(c.Host, url.Host, StringComparison.OrdinalIgnoreCase) && !(url.IsLoopback && e.Node != api.Node)))
                ?? (url.IsLoopback ? _etcds!.FirstOrDefault(e => e.Node == api.Node) : null);
            if (member is null)
            {
                Problems.Add($"{clientDesc} names etcd server {url} in --etcd-servers, which is no etcd member the inventory's nodes run (external etcd is not modelled yet).");
                continue;
            }
            var serverDesc = Describe.Component(Etcd, member.Node);
            var checks = new List<Check>
            {
                new(clientDesc, serverDesc, FlagFile(view, api.Node, ApiServer, api.Manifest, "etcd-cafile"), FlagFile(view, member.Node, Etcd, member.Manifest, "cert-file"), TrustBundleVerifier.ServerAuthOid, url.Host),
                new(serverDesc, clientDesc, FlagFile(view, member.Node, Etcd, member.Manifest, "trusted-ca-file"), FlagFile(view, api.Node, ApiServer, api.Manifest, "etcd-certfile"), TrustBundleVerifier.ClientAuthOid, null),
            };
            var id = $"{client}->{member.Node}/{Etcd}";
            yield return new EdgeDraft(id, EdgeKind.EtcdClient, client, $"{member.Node}/{Etcd}", clientDesc, serverDesc, checks, []);
        }
    }

    private IEnumerable<EdgeDraft> EtcdPeerEdges(WorldView view, EtcdInfo from)
    {
        var clientDesc = Describe.Component(Etcd, from.Node);
        foreach (var to in _etcds!.Where(e => e.Node != from.Node && e.PeerUrl is not null))
        {
            var serverDesc = Describe.Component(Etcd, to.Node);
            // etcd uses its peer certificate both to serve and as a client towards other members.
            var checks = new List<Check>
            {
                new(clientDesc, serverDesc, FlagFile(view, from.Node, Etcd, from.Manifest, "peer-trusted-ca-file"), FlagFile(view, to.Node, Etcd, to.Manifest, "peer-cert-file"), TrustBundleVerifier.ServerAuthOid, to.PeerUrl!.Host),
                new(serverDesc, clientDesc, FlagFile(view, to.Node, Etcd, to.Manifest, "peer-trusted-ca-file"), FlagFile(view, from.Node, Etcd, from.Manifest, "peer-cert-file"), TrustBundleVerifier.ClientAuthOid, null),
            };
            yield return new EdgeDraft($"{from.Node}/{Etcd}->{to.Node}/{Etcd}", EdgeKind.EtcdPeer, $"{from.Node}/{Etcd}", $"{to.Node}/{Etcd}", clientDesc, serverDesc, checks, []);
        }
    }

    private IEnumerable<EdgeDraft> AggregatorEdges(WorldView view, ApiServerInfo api)
    {
        if (world.ObjectFacts is not { } objects) yield break;
        var client = $"{api.Node}/{ApiServer}";
        var clientDesc = Describe.Component(ApiServer, api.Node);
        var presents = FlagFile(view, api.Node, ApiServer, api.Manifest, "proxy-client-cert-file");
        var requestHeaderCa = view.Object(ClusterObjects.ExtensionApiserverAuthentication, "data[requestheader-client-ca-file]");
        // One connection per Service (as the lab prober names it: NAME.NAMESPACE.svc), checked for each APIService behind it.
        foreach (var group in objects.ApiServices.Where(s => s.ServiceName is not null).GroupBy(s => $"{s.ServiceName}.{s.ServiceNamespace}.svc").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var serverDesc = $"the aggregated API server of Service {group.First().ServiceNamespace}/{group.First().ServiceName} (APIService {string.Join(", ", group.Select(s => s.Name).Order(StringComparer.Ordinal))})";
            var notes = new List<string>();
            if (objects.RequestHeaderAllowedNames.Count > 0 && presents.Content is { } pc && cache.Certificates(pc).FirstOrDefault() is { } leaf
                && !objects.RequestHeaderAllowedNames.Contains(Pki.CertificateFacts.CommonName(leaf)))
                notes.Add($"the front-proxy client certificate's CN {Pki.CertificateFacts.CommonName(leaf)} is not in requestheader-allowed-names ({string.Join(", ", objects.RequestHeaderAllowedNames)}), so aggregated servers ignore its user headers");
            var checks = new List<Check>();
            foreach (var svc in group.OrderBy(s => s.Name, StringComparer.Ordinal))
                checks.Add(new(clientDesc, serverDesc, view.Object(new ObjectRef("APIService", null, svc.Name), "spec.caBundle"), new Material(null, "its serving certificate", null, null), TrustBundleVerifier.ServerAuthOid, null,
                    svc.InsecureSkipTlsVerify ? $"APIService {svc.Name} sets insecureSkipTLSVerify" : $"the aggregated server's serving certificate is not read by this tool (scan lists the caBundle of APIService {svc.Name})"));
            checks.Add(new(serverDesc, clientDesc, requestHeaderCa, presents, TrustBundleVerifier.ClientAuthOid, null));
            yield return new EdgeDraft($"{client}->{group.Key}", EdgeKind.Aggregator, client, group.Key, clientDesc, serverDesc, checks, notes);
        }
    }

    private IEnumerable<EdgeDraft> PodEdges(WorldView view)
    {
        if (_apiServers!.Count == 0) yield break;
        foreach (var pod in world.Pods.Values.Where(p => p.MountsServiceAccountToken && p.Phase == "Running").OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            var clientDesc = $"pod {pod.Id}";
            var trust = view.PodObject(pod, ClusterObjects.KubeRootCa(pod.Namespace), "data[ca.crt]");
            var checks = _apiServers!.Select(b => new Check(clientDesc, Describe.Component(ApiServer, b.Node), trust, ApiServing(view, b), TrustBundleVerifier.ServerAuthOid, InClusterHost)).ToList();
            yield return new EdgeDraft($"{pod.Id}->endpoint", EdgeKind.Pod, pod.Id, "endpoint", clientDesc, "the API servers (Service kubernetes)", checks,
                ["the API server authenticates the pod's service-account token with sa.pub (not a CA, not checked here)"]);
        }
    }

    internal static string Text(byte[]? b) => b is null ? "" : Encoding.ASCII.GetString(b);
}
