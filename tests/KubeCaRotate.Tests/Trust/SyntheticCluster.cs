using System.Net;
using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Tests.Trust;

/// <summary>
/// A kubeadm cluster as data, no processes: every control plane's files as kubeadm writes them (PKI, kubeconfigs,
/// manifests), every worker's kubelet.conf and ca.crt, kubelet configs, kube-root-ca.crt in every namespace, mirror
/// pods and one workload pod per namespace. Files changed two hours before <see cref="Now"/>, components started one hour before.
/// </summary>
public sealed class SyntheticCluster
{
    public static readonly KubeadmPaths Paths = KubeadmPaths.Default;

    public DateTimeOffset Now { get; }
    public SharedPki Shared { get; }
    public CertificateIssuer Issuer { get; }
    public ClusterSnapshot Snapshot { get; }

    public SyntheticCluster(int controlPlanes = 3, int workers = 2, int namespaces = 3, DateTimeOffset? now = null)
    {
        Now = now ?? DateTimeOffset.UtcNow;
        Issuer = CertificateIssuer.System;
        var cluster = new ClusterPkiSpec { ControlPlaneEndpoint = "10.0.0.10:6443", Algorithm = KeyAlgorithm.EcdsaP256 };
        Shared = SharedPki.Create(Issuer, KeyAlgorithm.EcdsaP256, cluster.CaCertificateValidity);
        var filesAt = Now.AddHours(-2);
        var startedAt = Now.AddHours(-1);
        var cps = Enumerable.Range(1, controlPlanes).Select(i => ($"cp-{i}", $"10.0.0.{10 + i}")).ToList();
        var members = cps.Select(c => new EtcdMember(c.Item1, $"https://{c.Item2}:2380")).ToArray();
        var nodes = new List<NodeSnapshot>();
        var pods = new List<PodFacts>();
        var nodeFacts = new List<NodeFacts>();
        foreach (var (name, address) in cps)
        {
            var context = new PkiContext(cluster, new NodePkiSpec(name, IPAddress.Parse(address)));
            var pki = NodePki.Issue(context, Shared, Issuer, initNode: name == "cp-1");
            var files = new Dictionary<string, NodeFile>(StringComparer.Ordinal);
            foreach (var (path, content, _) in KubernetesDirectoryWriter.Files(pki, Paths))
                if (!path.EndsWith(".key", StringComparison.Ordinal)) files[path] = new NodeFile(path, content, filesAt);
            var spec = new ControlPlaneNodeSpec { NodeName = name, AdvertiseAddress = address, InitialCluster = members };
            foreach (var (path, manifest) in KubeadmManifests.All(spec)) files[path] = new NodeFile(path, manifest.ToBytes(), filesAt);
            AddKubeletConfig(files, address, filesAt);
            nodes.Add(new NodeSnapshot(name, ["control-plane"], address, files));
            foreach (var component in new[] { "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd" })
                pods.Add(new PodFacts("kube-system", $"{component}-{name}", name, startedAt, component, null, false, "Running"));
            nodeFacts.Add(new NodeFacts(name, address, true, startedAt));
        }
        for (var i = 1; i <= workers; i++)
        {
            var name = $"worker-{i}";
            var address = $"10.0.1.{i}";
            var context = new PkiContext(cluster, new NodePkiSpec(name, IPAddress.Parse(address)));
            var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
            var cert = Issuer.Sign(KubeadmCatalog.Kubelet.Template(context), key, Shared.Cluster, TimeSpan.FromDays(365));
            var caPem = Encoding.ASCII.GetBytes(Shared.Cluster.CertificatePem());
            var kubelet = Kubeconfig.Create("default-cluster", context.ControlPlaneUrl(), caPem, "default-auth",
                Encoding.ASCII.GetBytes(cert.ExportCertificatePem()), Encoding.ASCII.GetBytes(key.ToPem()), "default-context");
            var files = new Dictionary<string, NodeFile>(StringComparer.Ordinal)
            {
                [Paths.KubeletConf] = new(Paths.KubeletConf, kubelet.ToBytes(), filesAt),
                [Paths.CaCert] = new(Paths.CaCert, caPem, filesAt),
            };
            AddKubeletConfig(files, address, filesAt);
            nodes.Add(new NodeSnapshot(name, ["worker"], address, files));
            nodeFacts.Add(new NodeFacts(name, address, false, startedAt));
        }
        var caData = new List<ObjectCaData>();
        var nsNames = Enumerable.Range(1, namespaces).Select(i => $"ns-{i}").ToList();
        foreach (var ns in nsNames)
        {
            caData.Add(new ObjectCaData(ClusterObjects.KubeRootCa(ns), "data[ca.crt]", Shared.Cluster.CertificatePem(), filesAt));
            pods.Add(new PodFacts(ns, "app-0", "worker-1", startedAt, null, "app", true, "Running"));
        }
        caData.Add(new ObjectCaData(ClusterObjects.ExtensionApiserverAuthentication, "data[client-ca-file]", Shared.Cluster.CertificatePem(), filesAt));
        caData.Add(new ObjectCaData(ClusterObjects.ExtensionApiserverAuthentication, "data[requestheader-client-ca-file]", Shared.FrontProxy.CertificatePem(), filesAt));
        Snapshot = new ClusterSnapshot
        {
            TakenAt = Now,
            Nodes = nodes,
            Objects = new ClusterObjects { CaData = caData, Pods = pods, Nodes = nodeFacts, Namespaces = nsNames },
        };
    }

    private static void AddKubeletConfig(Dictionary<string, NodeFile> files, string address, DateTimeOffset at)
    {
        var config = KubeletConfigFile.Create(new KubeletConfigSpec { Address = address });
        files[Paths.KubeletConfigFile] = new NodeFile(Paths.KubeletConfigFile, config.ToBytes(), at);
    }

    public byte[] File(string node, string path) => Snapshot.Node(node)!.Files[path].Content;

    public static byte[] Pem(params System.Security.Cryptography.X509Certificates.X509Certificate2[] certs) =>
        Encoding.ASCII.GetBytes(PemBundle.Of(certs).ToPem());
}
