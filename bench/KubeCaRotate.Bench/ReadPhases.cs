using System.Diagnostics;
using KubeCaRotate.Cluster;
using KubeCaRotate.Nodes;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Bench;

/// <summary>
/// bench/read.sh's breakdown of one verify/scan: where the time goes, phase by phase, in one process (the CLI does
/// the same work in the same order, with node files and API lists read side by side). Each API list runs alone here,
/// so its time is its own.
/// </summary>
public static class ReadPhases
{
    public static async Task<int> RunAsync(string inventoryPath, CancellationToken ct)
    {
        var inventory = Inventory.Load(inventoryPath);
        var kubeconfig = inventory.Cluster.Kubeconfig is { } k ? inventory.Resolve(k) : throw new ArgumentException($"{inventoryPath} names no kubeconfig.");
        var sw = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        void Restart()
        {
            sw.Restart();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
        }
        void Phase(string what)
        {
            // CPU of this process only: the lab's API server and etcd work apart, and the machine may be busy.
            var now = Process.GetCurrentProcess().TotalProcessorTime;
            Console.WriteLine($"  {what}: {sw.Elapsed.TotalSeconds:F2} s, CPU {(now - cpu).TotalSeconds:F2} s");
            cpu = now;
        }

        inventory.Cluster.Kubeconfig = null;
        var filesOnly = await new ClusterReader(TimeProvider.System).ReadAsync(inventory, null, null, null, ct);
        Phase($"node files ({filesOnly.Nodes.Count} nodes, {filesOnly.Nodes.Sum(n => n.Files.Count)} files)");

        using (var api = ClusterApi.FromKubeconfig(kubeconfig))
        {
            async Task List<T>(string what, Func<CancellationToken, Task<IReadOnlyList<T>>> list)
            {
                Restart();
                var items = await list(ct);
                Phase($"list {what} ({items.Count})");
            }
            await List("ConfigMaps", api.ListConfigMapsAsync);
            await List("Secrets", api.ListSecretsAsync);
            await List("Pods", api.ListPodsAsync);
            await List("Nodes", api.ListNodesAsync);
            await List("node Leases", api.ListNodeLeasesAsync);
            await List("Namespaces", api.ListNamespacesAsync);
            await List("ValidatingWebhookConfigurations", api.ListValidatingWebhooksAsync);
            await List("MutatingWebhookConfigurations", api.ListMutatingWebhooksAsync);
            await List("APIServices", api.ListApiServicesAsync);
            await List("CustomResourceDefinitions", api.ListCustomResourceDefinitionsAsync);
            Restart();
            var objects = await new ClusterObjectsReader(api).ReadAsync(ct);
            Phase($"all objects, lists side by side ({objects.Objects.CaData.Count} CA fields, {objects.Objects.Pods.Count} pods)");
        }

        Restart();
        inventory.Cluster.Kubeconfig = kubeconfig;
        var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(inventory, null, null, null, ct);
        Phase("whole read (files and objects side by side, as verify and scan do)");
        Restart();
        var report = new TrustModel().Evaluate(snapshot);
        Phase($"trust model ({report.Edges.Count} edges)");
        Restart();
        var scan = new CaScanner().Scan(snapshot);
        Phase($"scan ({scan.Authorities.Count} CAs, {scan.Authorities.Sum(a => a.Places.Count)} places)");
        return 0;
    }
}
