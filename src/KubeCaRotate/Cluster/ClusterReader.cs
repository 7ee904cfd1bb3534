using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Builds a <see cref="ClusterSnapshot"/>: on every node (in parallel, bounded) every file under the Kubernetes
/// directory and /etc/cni/net.d, the kubelet's config.yaml and pki/, and every file a static pod flag, the kubelet
/// config or kubelet.conf names, and when its kubelet started (<see cref="KubeletStart"/>); from the API the objects of
/// <see cref="ClusterObjectsReader"/>. An unreachable node
/// or a failed API call is one sentence in the snapshot's problems, never a crash.
/// </summary>
public sealed class ClusterReader(TimeProvider time, int maxConcurrentNodes = 8)
{
    public const string CniDir = "/etc/cni/net.d";
    private const int MaxFileBytes = 1 << 20;

    /// <summary>Reads the cluster an inventory describes; <paramref name="kubeconfig"/>/<paramref name="context"/> override the inventory's.</summary>
    public async Task<ClusterSnapshot> ReadAsync(Inventory inventory, string? kubeconfig, string? context, ClusterApiOptions? apiOptions, CancellationToken ct)
    {
        var problems = new List<string>();
        var targets = new List<NodeTarget>();
        foreach (var node in inventory.Nodes)
        {
            INodeAccess? access = null;
            try
            {
                access = inventory.Open(node);
            }
            catch (Exception e) when (e is InventoryException or IOException or ArgumentException)
            {
                problems.Add(e.Message);
            }
            targets.Add(new NodeTarget(node.Name, node.Roles, node.Address, access, node.KubeletStartedAtCommand));
        }
        try
        {
            var path = kubeconfig ?? (inventory.Cluster.Kubeconfig is { } k ? inventory.Resolve(k) : null);
            var paths = new KubeadmPaths { KubernetesDir = inventory.Cluster.KubernetesDir, KubeletDir = inventory.Cluster.KubeletDir };
            var snapshot = await ReadAsync(targets, path, context ?? inventory.Cluster.Context, paths, apiOptions, ct).ConfigureAwait(false);
            return snapshot with { Problems = [.. problems, .. snapshot.Problems] };
        }
        finally
        {
            // The nodes were opened here, so their connections (SSH) close here.
            foreach (var target in targets)
            {
                target.Access?.Dispose();
            }
        }
    }

    /// <summary>
    /// Reads the given nodes and, when <paramref name="kubeconfigPath"/> is set, the API. With no node list (an empty
    /// one) the nodes come from the API's Node objects, without file access.
    /// </summary>
    public async Task<ClusterSnapshot> ReadAsync(IReadOnlyList<NodeTarget> nodes, string? kubeconfigPath, string? context, KubeadmPaths? paths, ClusterApiOptions? apiOptions, CancellationToken ct)
    {
        paths ??= KubeadmPaths.Default;
        var takenAt = time.GetUtcNow();
        var problems = new List<string>();
        ClusterObjects? objects = null;
        NodeFile? operatorKubeconfig = null;
        var objectsTask = Task.FromResult<ClusterObjectsReader.Result?>(null);
        ClusterApi? api = null;
        if (kubeconfigPath is not null)
        {
            try
            {
                var full = Path.GetFullPath(kubeconfigPath);
                operatorKubeconfig = new NodeFile(full, await File.ReadAllBytesAsync(full, ct).ConfigureAwait(false), File.GetLastWriteTimeUtc(full));
                api = ClusterApi.FromKubeconfig(full, context, apiOptions);
                objectsTask = new ClusterObjectsReader(api).ReadAsync(ct)!;
            }
            catch (Exception e) when (e is ClusterApiException or IOException or UnauthorizedAccessException)
            {
                problems.Add(e is ClusterApiException ? e.Message : $"Cannot read the kubeconfig {kubeconfigPath}: {e.Message}");
            }
        }
        using var slots = new SemaphoreSlim(Math.Max(1, maxConcurrentNodes));
        var nodeTasks = nodes.Select(async n =>
        {
            await slots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return await ReadNodeAsync(n, paths, ct).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        try
        {
            var result = await objectsTask.ConfigureAwait(false);
            if (result is not null)
            {
                objects = result.Objects;
                problems.AddRange(result.Problems);
            }
        }
        catch (ClusterApiException e)
        {
            problems.Add(e.Message);
        }
        finally
        {
            api?.Dispose();
        }
        var read = (await Task.WhenAll(nodeTasks).ConfigureAwait(false)).ToList();
        if (nodes.Count == 0 && objects is not null)
        {
            foreach (var n in objects.Nodes)
                read.Add(new NodeSnapshot(n.Name, n.IsControlPlane ? ["control-plane"] : ["worker"], n.InternalIp, new Dictionary<string, NodeFile>(),
                    $"Node {n.Name} was found in the API but its files cannot be read without node access; describe it in an inventory (--inventory)."));
        }
        problems.AddRange(read.Where(n => n.Problem is not null).Select(n => n.Problem!));
        return new ClusterSnapshot
        {
            TakenAt = takenAt,
            Nodes = read,
            OperatorKubeconfig = operatorKubeconfig,
            OperatorContext = context,
            Objects = objects,
            Problems = problems,
        };
    }

    private async Task<NodeSnapshot> ReadNodeAsync(NodeTarget target, KubeadmPaths paths, CancellationToken ct)
    {
        var files = new Dictionary<string, NodeFile>(StringComparer.Ordinal);
        if (target.Access is not { } node)
            return new NodeSnapshot(target.Name, target.Roles, target.Address, files, $"Node {target.Name} cannot be reached: the inventory gives no usable access.");
        // Asked before the files: a file written after this answer and before its read is then seen as changed after the start.
        var kubeletStart = target.KubeletStartedAtCommand is { } command ? await KubeletStart.ReadAsync(node, command, ct).ConfigureAwait(false) : null;
        try
        {
            await ReadTreeAsync(node, paths.KubernetesDir, files, depth: 4, ct).ConfigureAwait(false);
            await ReadTreeAsync(node, CniDir, files, depth: 1, ct).ConfigureAwait(false);
            await ReadTreeAsync(node, paths.KubeletPkiDir, files, depth: 1, ct).ConfigureAwait(false);
            await ReadOneAsync(node, paths.KubeletConfigFile, files, ct).ConfigureAwait(false);

            // Files named by flags and configs may live anywhere (an external etcd's certificates, a moved CA).
            var named = new List<string>();
            foreach (var manifest in files.Values.Where(f => f.Path.StartsWith(paths.ManifestsDir + "/", StringComparison.Ordinal)).ToList())
            {
                try
                {
                    var m = StaticPodManifest.Parse(manifest.Content, $"{manifest.Path} on node {target.Name}");
                    named.AddRange(m.Flags.Select(f => f.Value).Where(v => v is not null && v.StartsWith('/'))!);
                }
                catch (LayoutFormatException)
                {
                    // reported by the trust model, which parses it again
                }
            }
            if (files.GetValueOrDefault(paths.KubeletConfigFile) is { } kubeletConfig)
            {
                try
                {
                    var k = KubeletConfigFile.Parse(kubeletConfig.Content, paths.KubeletConfigFile);
                    named.AddRange(new[] { k.ClientCAFile, k.TlsCertFile }.Where(p => p is not null)!);
                }
                catch (LayoutFormatException)
                {
                }
            }
            foreach (var kubeconfig in files.Values.Where(f => f.Path.EndsWith(".conf", StringComparison.Ordinal) || f.Path.EndsWith(".kubeconfig", StringComparison.Ordinal)).ToList())
            {
                try
                {
                    var k = Kubeconfig.Parse(kubeconfig.Content, kubeconfig.Path);
                    named.AddRange(k.Users.SelectMany(u => new[] { u.ClientCertificate }).Concat(k.Clusters.Select(c => c.CertificateAuthority)).Where(p => p is not null && p.StartsWith('/'))!);
                }
                catch (LayoutFormatException)
                {
                }
            }
            foreach (var path in named.Distinct().Where(p => !files.ContainsKey(p)))
            {
                try
                {
                    await ReadOneAsync(node, path, files, ct).ConfigureAwait(false);
                }
                catch (NodeAccessException e) when (e.Message.Contains("is a directory", StringComparison.Ordinal))
                {
                    // a flag naming a directory (etcd --data-dir): nothing to read
                }
            }
            return new NodeSnapshot(target.Name, target.Roles, target.Address, files, null, kubeletStart);
        }
        catch (NodeAccessException e)
        {
            return new NodeSnapshot(target.Name, target.Roles, target.Address, files, e.Message, kubeletStart);
        }
    }

    private static async Task ReadTreeAsync(INodeAccess node, string dir, Dictionary<string, NodeFile> files, int depth, CancellationToken ct)
    {
        foreach (var entry in await node.ListDirectoryAsync(dir, ct).ConfigureAwait(false))
        {
            if (entry.Kind == NodeEntryKind.Directory)
            {
                if (depth > 1) await ReadTreeAsync(node, entry.Path, files, depth - 1, ct).ConfigureAwait(false);
            }
            else if (entry.Kind is NodeEntryKind.File or NodeEntryKind.Symlink)
            {
                await ReadOneAsync(node, entry.Path, files, ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task ReadOneAsync(INodeAccess node, string path, Dictionary<string, NodeFile> files, CancellationToken ct)
    {
        if (path.EndsWith(".key", StringComparison.Ordinal) || files.ContainsKey(path)) return;
        var content = await node.ReadFileAsync(path, ct).ConfigureAwait(false);
        if (content is null || content.Length > MaxFileBytes) return;
        content = WithoutPrivateKeys(content);
        files[path] = new NodeFile(path, content, await node.GetModifiedTimeAsync(path, ct).ConfigureAwait(false));
    }

    /// <summary>A PEM file with a private key block (kubelet-client-current.pem) keeps only its certificates.</summary>
    internal static byte[] WithoutPrivateKeys(byte[] content)
    {
        // Kubeconfigs hold keys base64-encoded, so a plain-text key marker means a PEM file.
        if (content.AsSpan().IndexOf("PRIVATE KEY-----"u8) < 0) return content;
        var text = Encoding.ASCII.GetString(content);
        var sb = new StringBuilder();
        var at = 0;
        while ((at = text.IndexOf("-----BEGIN CERTIFICATE-----", at, StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf("-----END CERTIFICATE-----", at, StringComparison.Ordinal);
            if (end < 0) break;
            end += "-----END CERTIFICATE-----".Length;
            sb.Append(text, at, end - at).Append('\n');
            at = end;
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}
