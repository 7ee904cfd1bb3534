using System.Net;
using System.Security.Cryptography;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>
/// A cluster of node directories written by the same code as `pki init` and the lab: per control plane the kubeadm
/// certificates, kubeconfigs and manifests; per node config.yaml and kubelet.conf; a worker with only ca.crt. No
/// processes: kubelet restarts run the real `true`. Made once per test class and copied per test (key generation is slow).
/// </summary>
public sealed class NodeDirectoryCluster : IDisposable
{
    public static readonly string[] ControlPlaneNames = ["cp-1", "cp-2"];
    public static readonly string[] WorkerNames = ["worker-1"];

    private NodeDirectoryCluster(string root) => Root = root;

    public string Root { get; }

    public IEnumerable<string> NodeNames => ControlPlaneNames.Concat(WorkerNames);

    public string NodeRoot(string node) => Path.Combine(Root, "nodes", node);

    public static async Task<NodeDirectoryCluster> CreateAsync()
    {
        var cluster = new NodeDirectoryCluster(Directory.CreateTempSubdirectory("kcr-rot-").FullName);
        var spec = new ClusterPkiSpec { ControlPlaneEndpoint = "127.0.0.10:6443", Algorithm = KeyAlgorithm.EcdsaP256 };
        var issuer = CertificateIssuer.System;
        var shared = SharedPki.Create(issuer, spec.Algorithm, spec.CaCertificateValidity);
        var members = ControlPlaneNames.Select((n, i) => new EtcdMember(n, $"https://127.0.0.{11 + i}:2380")).ToArray();
        var i = 0;
        foreach (var name in cluster.NodeNames)
        {
            var isCp = ControlPlaneNames.Contains(name);
            var address = isCp ? $"127.0.0.{11 + i}" : $"127.0.0.{101 + i}";
            i++;
            var root = cluster.NodeRoot(name);
            Directory.CreateDirectory(root);
            var node = new LocalNode(name, root);
            var context = new PkiContext(spec, new NodePkiSpec(name, IPAddress.Parse(address)));
            var paths = KubeadmPaths.Default;
            if (isCp)
            {
                await KubernetesDirectoryWriter.WriteAsync(node, NodePki.Issue(context, shared, issuer, initNode: name == "cp-1"), paths, overwrite: false);
                foreach (var (path, manifest) in KubeadmManifests.All(new ControlPlaneNodeSpec { NodeName = name, AdvertiseAddress = address, InitialCluster = members }))
                    await node.WriteFileAsync(path, manifest.ToBytes(), FileModes.Private);
            }
            else
            {
                await node.WriteFileAsync(paths.CaCert, Encoding.ASCII.GetBytes(shared.Cluster.CertificatePem()), FileModes.Public);
                var key = PrivateKey.Generate(spec.Algorithm);
                var client = issuer.Sign(KubeadmCatalog.Kubelet.Template(context), key, shared.Cluster, spec.CertificateValidity);
                var conf = Kubeconfig.Create("default-cluster", context.ControlPlaneUrl(), Encoding.ASCII.GetBytes(shared.Cluster.CertificatePem()), "default-auth",
                    Encoding.ASCII.GetBytes(client.ExportCertificatePem()), Encoding.ASCII.GetBytes(key.ToPem()), "default-context");
                await node.WriteFileAsync(paths.KubeletConf, conf.ToBytes(), FileModes.Private);
            }
            await node.WriteFileAsync(paths.KubeletConfigFile, KubeletConfigFile.Create(new KubeletConfigSpec()).ToBytes(), FileModes.Public);
        }
        return cluster;
    }

    /// <summary>A fresh copy of this cluster (modes kept) for one test.</summary>
    public NodeDirectoryCluster Copy()
    {
        var copy = new NodeDirectoryCluster(Directory.CreateTempSubdirectory("kcr-rot-").FullName);
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Root, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
        return copy;
    }

    public LocalNode Node(string name) => new(name, NodeRoot(name));

    /// <summary>The nodes as the rotation reaches them; <paramref name="wrap"/> may decorate each node's access.</summary>
    public RotationNodes Nodes(Func<INodeAccess, INodeAccess>? wrap = null) =>
        new(NodeNames.Select(n => new RotationNode((wrap ?? (a => a))(Node(n)), ControlPlaneNames.Contains(n), ["true"])));

    /// <summary>The cluster as a rotation reaches it; with a <see cref="RecordingRestartObserver"/> the API side is a <see cref="RecordingRotationApi"/>.</summary>
    public RotationCluster Cluster(IRestartObserver? restarts, Func<INodeAccess, INodeAccess>? wrap = null, TimeProvider? time = null)
    {
        var nodes = Nodes(wrap);
        return new(nodes, RotationPaths.Default)
        {
            Restarts = restarts, Issuer = time is null ? CertificateIssuer.System : new CertificateIssuer(time),
            Api = restarts is RecordingRestartObserver recording ? new RecordingRotationApi(recording, nodes.ControlPlanes[0].Access).Api : null,
        };
    }

    /// <summary>SHA-256 and mode of every file under the cluster root, by relative path; <paramref name="skipState"/> leaves out .kube-ca-rotate.</summary>
    public SortedDictionary<string, string> Hashes(bool skipState = false)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Root, file);
            if (skipState && relative.Contains(RotationPaths.StateDirName, StringComparison.Ordinal)) continue;
            result[relative] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) + " " + FileModes.ToOctal(File.GetUnixFileMode(file));
        }
        return result;
    }

    public string Read(string node, string path) => File.ReadAllText(NodeRoot(node) + path);

    public PemBundle Bundle(string node, string path) => PemBundle.Parse(Read(node, path), path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One cluster per test class; tests take copies.</summary>
public sealed class NodeDirectoryClusterFixture : IAsyncLifetime
{
    public NodeDirectoryCluster Template { get; private set; } = null!;

    public async Task InitializeAsync() => Template = await NodeDirectoryCluster.CreateAsync();

    public Task DisposeAsync()
    {
        Template.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Records the waits the engine asks for, in order. The real observer (mirror pods, Node Ready) belongs to the Cluster
/// part; for node directories with no processes, there is nothing to wait for, and what is asserted is that each
/// restart is waited for, on the right node, after its change.
/// </summary>
public sealed class RecordingRestartObserver : IRestartObserver
{
    public List<(string Node, string Component, DateTimeOffset After)> Waits { get; } = [];

    /// <summary>Called at each wait for a static pod, with the node and component, to look at the files at that moment.</summary>
    public Action<string, string>? OnStaticPodWait { get; init; }

    public Task WaitStaticPodRestartedAsync(string node, string component, DateTimeOffset after, CancellationToken ct)
    {
        lock (Waits) Waits.Add((node, component, after));
        OnStaticPodWait?.Invoke(node, component);
        return Task.CompletedTask;
    }

    public Task WaitKubeletRestartedAsync(string node, DateTimeOffset after, CancellationToken ct)
    {
        lock (Waits) Waits.Add((node, "kubelet", after));
        return Task.CompletedTask;
    }
}

/// <summary>Progress that keeps every event synchronously.</summary>
public sealed class EventLog : IProgress<RotationEvent>
{
    public List<RotationEvent> Events { get; } = [];

    public void Report(RotationEvent value)
    {
        lock (Events) Events.Add(value);
    }
}
