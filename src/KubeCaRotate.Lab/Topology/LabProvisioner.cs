using System.Globalization;
using System.Net;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Topology;

/// <summary>
/// Writes every node's files exactly where kubeadm and the kubelet put them: /etc/kubernetes (pki, kubeconfigs,
/// static pod manifests) and /var/lib/kubelet (config.yaml, the dated client certificate with its -current link,
/// the self-signed serving pair); then the lab's inventory.yaml and admin.conf.
/// </summary>
public sealed class LabProvisioner(CertificateIssuer issuer)
{
    private static readonly KubeadmPaths Paths = KubeadmPaths.Default;

    public async Task ProvisionAsync(LabTopology lab, string kubeCaRotateExecutable, CancellationToken ct)
    {
        var cluster = new ClusterPkiSpec { ControlPlaneEndpoint = lab.ControlPlaneEndpoint, Algorithm = lab.Algorithm };
        var shared = SharedPki.Create(issuer, lab.Algorithm, cluster.CaCertificateValidity);
        var first = lab.ControlPlanes.First();
        var initialCluster = lab.ControlPlanes.Select(n => new EtcdMember(n.Name, n.EtcdPeerUrl)).ToArray();
        foreach (var node in lab.Nodes)
        {
            var root = lab.NodeRoot(node);
            Directory.CreateDirectory(root);
            var access = new LocalNode(node.Name, root);
            var context = new PkiContext(cluster, new NodePkiSpec(node.Name, IPAddress.Parse(node.Address), node.IsControlPlane ? node.ApiServerPort : 6443));
            if (node.IsControlPlane)
            {
                var pki = NodePki.Issue(context, shared, issuer, initNode: node == first);
                await KubernetesDirectoryWriter.WriteAsync(access, pki, Paths, overwrite: false, ct).ConfigureAwait(false);
                var spec = new ControlPlaneNodeSpec
                {
                    NodeName = node.Name, AdvertiseAddress = node.Address, ApiServerBindPort = node.ApiServerPort,
                    EtcdClientPort = node.EtcdClientPort, EtcdPeerPort = node.EtcdPeerPort, EtcdMetricsPort = node.EtcdMetricsPort,
                    ControllerManagerSecurePort = node.ControllerManagerPort, SchedulerSecurePort = node.SchedulerPort,
                    InitialCluster = initialCluster,
                    ApiServerExtraArgs = ApiServerExtraArgs(lab),
                };
                foreach (var (path, manifest) in KubeadmManifests.All(spec))
                    await access.WriteFileAsync(path, manifest.ToBytes(), FileModes.Private, ct).ConfigureAwait(false);
            }
            else
            {
                await WriteWorkerCaAsync(access, shared.Cluster, ct).ConfigureAwait(false);
            }
            await WriteKubeletAsync(lab, node, access, context, shared.Cluster, isInitNode: node == first, ct).ConfigureAwait(false);
        }

        await File.WriteAllBytesAsync(lab.AdminKubeconfig,
            (await new LocalNode(first.Name, lab.NodeRoot(first)).ReadFileAsync(Paths.AdminConf, ct).ConfigureAwait(false))!, ct).ConfigureAwait(false);
        File.SetUnixFileMode(lab.AdminKubeconfig, FileModes.Private);
        await File.WriteAllTextAsync(lab.InventoryFile, Inventory(lab, kubeCaRotateExecutable).ToYaml(), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The extraArgs an HA control plane behind a load balancer is given: --shutdown-delay-duration, so that a stopping
    /// API server fails /readyz while it still serves, and the load balancer (checking /readyz every 0.5 s, out after two
    /// failures) stops sending it connections before it stops listening. Without it, connections the load balancer
    /// handed to an API server in the instant it stopped are cut, as with a real kube-apiserver. A single control plane
    /// has no other API server to send them to, so it keeps kubeadm's default (none).
    /// </summary>
    public static IReadOnlyDictionary<string, string> ApiServerExtraArgs(LabTopology lab) =>
        lab.Nodes.Count(n => n.IsControlPlane) > 1 ? new Dictionary<string, string> { ["shutdown-delay-duration"] = "3s" } : new Dictionary<string, string>();

    /// <summary>
    /// Writes the files of one more worker of a provisioned lab, signed by the lab's cluster CA as read from its first
    /// control plane: what `kubeadm join` and the kubelet leave (pki/ca.crt, config.yaml, the client certificate and
    /// kubelet.conf, the serving pair). Nothing runs for it: no agent, no Node object, no inventory entry (bench/read.sh
    /// grows a lab's files to 50 workers this way).
    /// </summary>
    public async Task ProvisionWorkerAsync(LabTopology lab, LabNode worker, CancellationToken ct)
    {
        if (worker.IsControlPlane) throw new ArgumentException($"{worker.Name} is a control-plane node; only a worker can be added to a provisioned lab.", nameof(worker));
        var first = lab.ControlPlanes.First();
        var firstNode = new LocalNode(first.Name, lab.NodeRoot(first));
        var caCert = await firstNode.ReadFileAsync(Paths.CaCert, ct).ConfigureAwait(false);
        var caKey = await firstNode.ReadFileAsync(Paths.CaKey, ct).ConfigureAwait(false);
        if (caCert is null || caKey is null)
            throw new LabException($"{lab.NodeRoot(first)} holds no {Paths.CaCert} and {Paths.CaKey}; provision the lab (lab up) before adding a worker.");
        var clusterCa = CertificateAuthority.Load(Encoding.ASCII.GetString(caCert), $"{Paths.CaCert} on {first.Name}", Encoding.ASCII.GetString(caKey), $"{Paths.CaKey} on {first.Name}");
        var cluster = new ClusterPkiSpec { ControlPlaneEndpoint = lab.ControlPlaneEndpoint, Algorithm = lab.Algorithm };
        var root = lab.NodeRoot(worker);
        Directory.CreateDirectory(root);
        var access = new LocalNode(worker.Name, root);
        var context = new PkiContext(cluster, new NodePkiSpec(worker.Name, IPAddress.Parse(worker.Address), 6443));
        await WriteWorkerCaAsync(access, clusterCa, ct).ConfigureAwait(false);
        await WriteKubeletAsync(lab, worker, access, context, clusterCa, isInitNode: false, ct).ConfigureAwait(false);
    }

    /// <summary>A worker gets what `kubeadm join` leaves: pki/ca.crt from cluster-info (and a kubelet.conf, written with the kubelet's files).</summary>
    private static Task WriteWorkerCaAsync(LocalNode access, CertificateAuthority clusterCa, CancellationToken ct) =>
        access.WriteFileAsync(NodePath.Combine(Paths.CertificatesDir, "ca.crt"), Encoding.ASCII.GetBytes(clusterCa.CertificatePem()), PkiFile.Public, ct);

    /// <summary>
    /// The kubelet's files: config.yaml as kubeadm writes it (with this node's port), the client certificate the CSR
    /// signer would have issued (dated file + kubelet-client-current.pem link), kubelet.conf pointing at that link (as
    /// after kubeadm's kubelet-finalize phase), and the self-signed serving pair the kubelet makes at first start.
    /// </summary>
    private async Task WriteKubeletAsync(LabTopology lab, LabNode node, LocalNode access, PkiContext context, CertificateAuthority clusterCa, bool isInitNode, CancellationToken ct)
    {
        var kubeletPki = NodePath.Combine(Paths.KubeletDir, "pki");
        var config = KubeletConfigFile.Create(new KubeletConfigSpec
        {
            Address = node.Address, Port = node.KubeletPort, HealthzPort = node.KubeletHealthzPort, FileCheckFrequency = lab.FileCheckFrequency,
        });
        await access.WriteFileAsync(NodePath.Combine(Paths.KubeletDir, "config.yaml"), config.ToBytes(), PkiFile.Public, ct).ConfigureAwait(false);

        var clientKey = PrivateKey.Generate(lab.Algorithm);
        var client = issuer.Sign(KubeadmCatalog.Kubelet.Template(context), clientKey, clusterCa, context.Cluster.CertificateValidity);
        var dated = NodePath.Combine(kubeletPki, $"kubelet-client-{issuer.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture)}.pem");
        await access.WriteFileAsync(dated, Encoding.ASCII.GetBytes(client.ExportCertificatePem() + "\n" + clientKey.ToPem()), FileModes.Private, ct).ConfigureAwait(false);
        var current = NodePath.Combine(kubeletPki, KubeadmPaths.KubeletClientCurrentFileName);
        await access.CreateSymlinkAsync(current, dated, ct).ConfigureAwait(false);

        // The init node's kubelet.conf is kubeadm's (cluster "kubernetes"); a joined node's is the kubelet's own
        // (default-cluster / default-context / default-auth).
        var caPem = Encoding.ASCII.GetBytes(clusterCa.CertificatePem());
        var (clusterName, userName, contextName) = isInitNode
            ? (context.Cluster.ClusterName, "system:node:" + node.Name, null)
            : ("default-cluster", "default-auth", "default-context");
        var kubeconfig = Kubeconfig.Create(clusterName, context.ControlPlaneUrl(), caPem, userName,
            Encoding.ASCII.GetBytes(client.ExportCertificatePem()), Encoding.ASCII.GetBytes(clientKey.ToPem()), contextName);
        kubeconfig.SetClientCertificatePaths(userName, current, current);
        await access.WriteFileAsync(Paths.KubeletConf, kubeconfig.ToBytes(), FileModes.Private, ct).ConfigureAwait(false);

        // The kubelet's self-signed serving pair: a throw-away CA "<host>-ca@<ts>" and a leaf "<host>@<ts>", both in kubelet.crt.
        var ts = issuer.Time.GetUtcNow().ToUnixTimeSeconds();
        var selfCa = issuer.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "kubelet-ca", "kubelet-ca", $"{node.Name}-ca@{ts}", "kubelet self-signed CA"), KeyAlgorithm.Rsa2048, TimeSpan.FromDays(365));
        var servingKey = PrivateKey.Generate(KeyAlgorithm.Rsa2048);
        var sans = SubjectAltNames.From([node.Name], [IPAddress.Parse(node.Address)], [], out _);
        var serving = issuer.Sign(CertificateTemplate.ForLeaf($"{node.Name}@{ts}", [], [ExtendedKeyUsage.ServerAuth], sans), servingKey, selfCa, TimeSpan.FromDays(365));
        await access.WriteFileAsync(NodePath.Combine(kubeletPki, KubeadmPaths.KubeletServingCertFileName), Encoding.ASCII.GetBytes(serving.ExportCertificatePem() + "\n" + selfCa.CertificatePem()), PkiFile.Public, ct).ConfigureAwait(false);
        await access.WriteFileAsync(NodePath.Combine(kubeletPki, KubeadmPaths.KubeletServingKeyFileName), Encoding.ASCII.GetBytes(servingKey.ToPem()), FileModes.Private, ct).ConfigureAwait(false);
    }

    private static Inventory Inventory(LabTopology lab, string exe) => new()
    {
        BaseDirectory = lab.Dir,
        Cluster = new InventoryCluster { Kubeconfig = "admin.conf" },
        Nodes = lab.Nodes.Select(n => new InventoryNode
        {
            Name = n.Name,
            Roles = n.IsControlPlane ? ["control-plane"] : ["worker"],
            Address = n.Address,
            Access = new NodeAccessSpec { Local = new LocalAccessSpec { Root = n.RootRelative } },
            RestartKubelet = [exe, "lab", "restart-kubelet", "--dir", lab.Dir, "--node", n.Name],
            KubeletStartedAt = Kubelet.KubeletStartedAt.Command(lab, n.Name),
        }).ToList(),
    };
}
