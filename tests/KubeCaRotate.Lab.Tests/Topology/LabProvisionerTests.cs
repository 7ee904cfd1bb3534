using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Lab.Tests.Topology;

/// <summary>A worker added to a provisioned lab (bench/read.sh grows a lab this way): files only, no process.</summary>
public class LabProvisionerTests
{
    private static readonly KubeadmPaths Paths = KubeadmPaths.Default;

    [Fact]
    public async Task An_added_worker_gets_its_own_kubelet_client_certificate_from_the_lab_cluster_CA_and_its_kubelet_edge_verifies()
    {
        var dir = Path.Combine(Path.GetTempPath(), "kcr-provision-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var lab = LabTopology.Plan(dir, controlPlanes: 1, workers: 1, namespaces: 0, KeyAlgorithm.EcdsaP256);
            var provisioner = new LabProvisioner(CertificateIssuer.System);
            await provisioner.ProvisionAsync(lab, "kube-ca-rotate", CancellationToken.None);
            var added = new LabNode { Name = "worker-2", IsControlPlane = false, Address = "127.0.0.102", KubeletPort = 10250, KubeletHealthzPort = 10248 };
            await provisioner.ProvisionWorkerAsync(lab, added, CancellationToken.None);

            var inventory = Inventory.Load(lab.InventoryFile);
            inventory.Nodes.Add(new InventoryNode { Name = added.Name, Roles = ["worker"], Address = added.Address, Access = new NodeAccessSpec { Local = new LocalAccessSpec { Root = added.RootRelative } } });
            inventory.Cluster.Kubeconfig = null; // no API server runs: the files alone
            var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(inventory, null, null, null, CancellationToken.None);
            Assert.Empty(snapshot.Problems);

            var clusterCa = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(lab.NodeRoot(lab.ControlPlanes.First()), "etc/kubernetes/pki/ca.crt")));
            var workerCa = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(lab.NodeRoot(added), "etc/kubernetes/pki/ca.crt")));
            Assert.Equal(clusterCa.Thumbprint, workerCa.Thumbprint);

            var current = Path.Combine(lab.NodeRoot(added), "var/lib/kubelet/pki", KubeadmPaths.KubeletClientCurrentFileName);
            var client = X509Certificate2.CreateFromPem(File.ReadAllText(current));
            Assert.Equal("system:node:worker-2", client.GetNameInfo(X509NameType.SimpleName, false));
            Assert.Equal(clusterCa.Subject, client.Issuer);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(new FileInfo(current).ResolveLinkTarget(true)!.FullName));
            var firstWorker = lab.Workers.First();
            var firstClient = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(lab.NodeRoot(firstWorker), "var/lib/kubelet/pki", KubeadmPaths.KubeletClientCurrentFileName)));
            Assert.NotEqual(firstClient.Thumbprint, client.Thumbprint);

            // Read as verify reads it: the kubelet of the added worker reaches the HA endpoint and its chain to the lab's CA holds.
            var report = new TrustModel().Evaluate(snapshot);
            var kubelet = Assert.Single(report.Edges, e => e.Client == "worker-2/kubelet");
            Assert.Equal(EdgeState.Healthy, kubelet.State);
            Assert.StartsWith("CN=system:node:worker-2,", kubelet.ClientEnd.Presents);
            Assert.Contains(report.Edges, e => e.Server == "worker-2/kubelet" && e.Kind == EdgeKind.KubeletApi && e.State == EdgeState.Healthy);
            Assert.NotNull(snapshot.Node("worker-2")!.Files.GetValueOrDefault(Paths.KubeletConfigFile));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
