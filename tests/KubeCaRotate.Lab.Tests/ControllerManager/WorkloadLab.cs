using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;

namespace KubeCaRotate.Lab.Tests.ControllerManager;

/// <summary>
/// One small lab (2 control planes, 1 worker, 2 namespaces) shared by the controller-manager, scheduler and aggregator
/// tests, which run one after another in the "workload lab" collection; always brought down.
/// </summary>
public sealed class WorkloadLab : IAsyncLifetime
{
    public string Dir { get; } = TestLab.NewDir("kcr-wl-");

    public LabTopology Lab { get; private set; } = null!;

    public KubeconfigClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Lab = await TestLab.UpAsync(new LabUpOptions(Dir, 2, 1, 2) { Prober = false }); // no test here reads the prober
        Admin = KubeconfigClient.FromFile(Lab.AdminKubeconfig, p => p);
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        await TestLab.DownAndRemoveAsync(Dir);
    }

    public string NodeFile(LabNode node, string nodePath) => Path.Join(Lab.NodeRoot(node), nodePath);

    public Task<ProcessRun> KubectlAsync(params string[] args) => ProcessRun.RunAsync("kubectl", ["--kubeconfig", Lab.AdminKubeconfig, .. args]);

    /// <summary>Edits a control-plane node's kube-controller-manager.yaml (the agent restarts the pod on a content change).</summary>
    public void EditControllerManagerManifest(LabNode node, Action<StaticPodManifest> edit)
    {
        var path = NodeFile(node, KubeadmPaths.Default.ControllerManagerManifest);
        var manifest = StaticPodManifest.Parse(File.ReadAllBytes(path), path);
        edit(manifest);
        File.WriteAllBytes(path + ".tmp", manifest.ToBytes());
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>
    /// Waits until every control-plane node runs the controller-manager of its current manifest: the node agent has
    /// recorded the manifest's hash for a live process. Only then has every instance read its files anew.
    /// </summary>
    public async Task WaitControllerManagersRestartedAsync(IReadOnlyDictionary<string, string> pidsBefore)
    {
        foreach (var cp in Lab.ControlPlanes)
        {
            var pods = KubeCaRotate.Lab.Kubelet.StaticPodRunner.PodRunDirectory(Lab, cp.Name);
            var manifest = NodeFile(cp, "/etc/kubernetes/manifests/kube-controller-manager.yaml");
            await EventuallyAsync(() =>
            {
                var pidFile = Path.Combine(pods, "kube-controller-manager.pid");
                var hashFile = Path.Combine(pods, "kube-controller-manager.hash");
                var pid = File.Exists(pidFile) ? File.ReadAllText(pidFile) : null;
                var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(manifest)));
                return Task.FromResult(pid is not null && pid != pidsBefore.GetValueOrDefault(cp.Name) && File.Exists(hashFile) && File.ReadAllText(hashFile) == hash);
            }, $"the controller-manager on {cp.Name} restarted with its new manifest");
        }
    }

    public IReadOnlyDictionary<string, string> ControllerManagerPids() => Lab.ControlPlanes.ToDictionary(
        cp => cp.Name,
        cp => File.ReadAllText(Path.Combine(KubeCaRotate.Lab.Kubelet.StaticPodRunner.PodRunDirectory(Lab, cp.Name), "kube-controller-manager.pid")));

    public StaticPodManifest ControllerManagerManifest(LabNode node)
    {
        var path = NodeFile(node, KubeadmPaths.Default.ControllerManagerManifest);
        return StaticPodManifest.Parse(File.ReadAllBytes(path), path);
    }

    public async Task<string?> LeaseHolderAsync(string name) =>
        (await Admin.GetAsync($"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{name}", CancellationToken.None))?["spec"]?["holderIdentity"]?.GetValue<string>();

    /// <summary>Polls <paramref name="condition"/> every 250 ms until it holds; fails with <paramref name="what"/> after a generous timeout.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (true)
        {
            try
            {
                if (await condition())
                    return;
            }
            catch (ApiCallException)
            {
                // the API server may be restarting; try again
            }
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out after {seconds} s waiting until {what}.");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Marks Ready, through the API, pods that no kubelet has marked Ready within <paramref name="grace"/>: the fallback
    /// for a lab without a kubelet stand-in that reports pod status. Returns how many it marked.
    /// </summary>
    public async Task<int> MarkStuckPodsReadyAsync(string ns, TimeSpan grace)
    {
        var marked = 0;
        foreach (var pod in await Admin.ListAsync($"/api/v1/namespaces/{ns}/pods", CancellationToken.None))
        {
            if (WorkloadPods.IsReady(pod) || WorkloadPods.Str(pod["spec"]?["nodeName"]).Length == 0)
                continue;
            var created = DateTimeOffset.Parse(WorkloadPods.Str(pod["metadata"]?["creationTimestamp"]), System.Globalization.CultureInfo.InvariantCulture);
            if (DateTimeOffset.UtcNow - created < grace)
                continue;
            try
            {
                await Admin.MergePatchAsync($"/api/v1/namespaces/{ns}/pods/{WorkloadPods.Name(pod)}/status", new JsonObject
                {
                    ["status"] = new JsonObject
                    {
                        ["phase"] = "Running",
                        ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
                    },
                }, CancellationToken.None);
                marked++;
            }
            catch (ApiCallException)
            {
            }
        }
        return marked;
    }
}

[CollectionDefinition("workload lab")]
public sealed class WorkloadLabCollection : ICollectionFixture<WorkloadLab>;
