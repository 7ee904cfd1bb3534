using System.Diagnostics;
using KubeCaRotate.Cluster;
using KubeCaRotate.Nodes;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Bench;

/// <summary>
/// bench/read.sh's breakdown of one verify/scan: where the time goes, phase by phase, in one process (the CLI does
/// the same work in the same order, with node files and API lists read side by side). The phases are those of
/// <see cref="ClusterReader"/>: on each node (8 at a time) the inventory's kubeletStartedAt command, then the files;
/// from the API the lists of <see cref="ClusterObjectsReader"/>, in its order. Each API list runs alone here, so its
/// time is its own.
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

        var starts = await KubeletStartsAsync(inventory, ct);
        Phase($"kubelet starts alone ({starts.Count} nodes, the inventory's kubeletStartedAt command, {MaxConcurrentNodes} at a time; "
            + $"{starts.Count(s => s.StartedAt is not null && s.NotRunning is null)} running since a known time, {starts.Count(s => s.NotRunning is not null)} not running, {starts.Count(s => s.StartedAt is null && s.NotRunning is null)} unknown)");

        Restart();
        inventory.Cluster.Kubeconfig = null;
        var filesOnly = await new ClusterReader(TimeProvider.System, MaxConcurrentNodes).ReadAsync(inventory, null, null, null, ct);
        Phase($"nodes: kubelet start, then files ({filesOnly.Nodes.Count} nodes, {filesOnly.Nodes.Sum(n => n.Files.Count)} files)");

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
        var snapshot = await new ClusterReader(TimeProvider.System, MaxConcurrentNodes).ReadAsync(inventory, null, null, null, ct);
        Phase("whole read (files and objects side by side, as verify and scan do)");
        Restart();
        var report = new TrustModel().Evaluate(snapshot);
        Phase($"trust model ({report.Edges.Count} edges)");
        Restart();
        var scan = new CaScanner().Scan(snapshot);
        Phase($"scan ({scan.Authorities.Count} CAs, {scan.Authorities.Sum(a => a.Places.Count)} places)");
        return 0;
    }

    /// <summary>ClusterReader's default bound on nodes read at once.</summary>
    private const int MaxConcurrentNodes = 8;

    /// <summary>What <see cref="ClusterReader"/> asks each node first, with the same bound: the kubelet's start (<see cref="KubeletStart"/>).</summary>
    private static async Task<IReadOnlyList<KubeletStart>> KubeletStartsAsync(Inventory inventory, CancellationToken ct)
    {
        using var slots = new SemaphoreSlim(MaxConcurrentNodes);
        return await Task.WhenAll(inventory.Nodes.Select(async node =>
        {
            await slots.WaitAsync(ct);
            try
            {
                using var access = inventory.Open(node);
                return await KubeletStart.ReadAsync(access, node.KubeletStartedAtCommand, ct);
            }
            finally
            {
                slots.Release();
            }
        }));
    }
}
