using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>
/// One light lab (1 control plane, no worker, 1 namespace) for the object, backup and lock tests, reached as a rotation
/// reaches it: its inventory's nodes, plus a second control-plane node "cp-spare" (a node directory of its own, so the
/// backups' "on every control-plane node" is seen on more than one). Always brought down.
/// </summary>
public sealed class ObjectsAndLockLab : IAsyncLifetime
{
    public string Dir { get; } = TestLab.NewDir("kcr-objlock-");

    public LabTopology Lab { get; private set; } = null!;

    public RotationNodes Nodes { get; private set; } = null!;

    public RotationPaths Paths { get; } = RotationPaths.Default;

    public RotationApiConnection Connection { get; private set; } = null!;

    public const string Namespace = "lab-1";

    public async Task InitializeAsync()
    {
        Lab = await TestLab.UpAsync(new LabUpOptions(Dir, 1, 0, 1) { Prober = false }); // no test here reads the prober
        var inventory = Inventory.Load(Lab.InventoryFile);
        var spareRoot = Path.Combine(Dir, "spare-node");
        Directory.CreateDirectory(spareRoot);
        Nodes = new RotationNodes([
            .. RotationNodes.FromInventory(inventory).All,
            new RotationNode(new LocalNode("cp-spare", spareRoot), true, ["true"]),
        ]);
        Connection = new RotationApiConnection(Nodes, Paths);
    }

    public async Task DisposeAsync()
    {
        Connection?.Dispose();
        await TestLab.DownAndRemoveAsync(Dir);
    }

    public Task<ProcessRun> KubectlAsync(params string[] args) => KubectlWithInputAsync(null, args);

    public async Task<ProcessRun> KubectlWithInputAsync(string? stdin, params string[] args) =>
        await ProcessRun.RunAsync("kubectl", ["--kubeconfig", Lab.AdminKubeconfig, "--request-timeout=30s", .. args], stdin);

    public async Task<string> KubectlOkAsync(params string[] args) => (await KubectlAsync(args)).EnsureSuccess().Stdout;
}
