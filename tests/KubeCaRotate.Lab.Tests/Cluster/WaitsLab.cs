using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>
/// One lab (3 control planes, 2 workers, 2 namespaces) for the tests of a rotation's waits (restarts, rollouts, the root
/// CA's publication), which run one after another in the "waits lab" collection; always brought down. The rotation's
/// nodes, paths and API connection are built from the lab's inventory as the CLI builds them.
/// </summary>
public sealed class WaitsLab : IAsyncLifetime
{
    public string Dir { get; } = TestLab.NewDir("kcr-waits-");

    public LabTopology Lab { get; private set; } = null!;

    public RotationNodes Nodes { get; private set; } = null!;

    public RotationPaths Paths { get; private set; } = null!;

    public RotationApiConnection Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Lab = await TestLab.UpAsync(new LabUpOptions(Dir, 3, 2, 2) { Prober = false }); // no test here reads the prober
        var inventory = Inventory.Load(Lab.InventoryFile);
        Nodes = RotationNodes.FromInventory(inventory);
        Paths = new RotationPaths(new KubeadmPaths
        {
            KubernetesDir = inventory.Cluster.KubernetesDir, CertificatesDir = inventory.Cluster.KubernetesDir.TrimEnd('/') + "/pki", KubeletDir = inventory.Cluster.KubeletDir,
        });
        Connection = new RotationApiConnection(Nodes, Paths);
    }

    public async Task DisposeAsync()
    {
        Connection?.Dispose();
        await TestLab.DownAndRemoveAsync(Dir);
    }

    /// <summary>The pid the node agent recorded for a static pod's process.</summary>
    public string? StaticPodPid(string node, string pod)
    {
        var file = Path.Combine(KubeCaRotate.Lab.Kubelet.StaticPodRunner.PodRunDirectory(Lab, node), pod + ".pid");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }
}

[CollectionDefinition("waits lab")]
public sealed class WaitsLabCollection : ICollectionFixture<WaitsLab>;
