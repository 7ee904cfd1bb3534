using System.Diagnostics;
using System.Text;
using k8s;
using k8s.Models;
using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Bench;

/// <summary>
/// bench/read.sh's set-up: grows a running lab, as far as verify and scan read it, to W workers and N application
/// namespaces without running anything more. Each added worker gets kubeadm's worker files (its own kubelet client
/// certificate from the lab's cluster CA, its own self-signed serving pair: <see cref="LabProvisioner.ProvisionWorkerAsync"/>),
/// a Node object and a node Lease as the lab's kubelets write them, and an entry in a copy of the inventory
/// (DIR/inventory-read-bench.yaml; lab.json is left alone, so the lab's agents and prober never see these nodes).
/// Each added namespace gets what the seeder gives one (a ServiceAccount app, kube-root-ca.crt, a legacy token Secret
/// signed with sa.key) and, instead of a Deployment that would need a node agent, one bare Pod bound to an added
/// worker with status Running, created after its namespace's kube-root-ca.crt (so its start is not older than the CA
/// data it mounts). Objects go through the tool's own <see cref="ClusterApi"/>, 8 requests in flight, namespace by
/// namespace: kubectl create -f of the same 8,000 objects sends one request at a time.
/// </summary>
public static class LabScaleOut
{
    public const string InventoryFileName = "inventory-read-bench.yaml";

    public static async Task<int> RunAsync(string dir, int workers, int namespaces, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var lab = LabTopology.Load(dir);
        var time = TimeProvider.System;
        var existingWorkers = lab.Workers.Count();
        var added = Enumerable.Range(existingWorkers + 1, Math.Max(0, workers - existingWorkers)).Select(j => new LabNode
        {
            // No port is listened on: nothing runs for these nodes. 127.0.0.(100 + j) continues the lab's plan.
            Name = $"worker-{j}", IsControlPlane = false, Address = $"127.0.0.{100 + j}", KubeletPort = 10250, KubeletHealthzPort = 10248,
        }).ToList();
        var provisioner = new LabProvisioner(new CertificateIssuer(time));
        await Parallel.ForEachAsync(added, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
            async (node, t) => await provisioner.ProvisionWorkerAsync(lab, node, t));
        Console.WriteLine($"grow: {added.Count} worker directories written in {sw.Elapsed.TotalSeconds:F1} s");

        var inventory = Inventory.Load(lab.InventoryFile);
        foreach (var node in added)
        {
            inventory.Nodes.Add(new InventoryNode
            {
                Name = node.Name, Roles = ["worker"], Address = node.Address,
                Access = new NodeAccessSpec { Local = new LocalAccessSpec { Root = node.RootRelative } },
                // No kubelet runs for an added worker: its start is unknown (`true` prints no timestamp), on any host,
                // rather than whatever this machine's systemctl says about a kubelet unit it may or may not have.
                KubeletStartedAt = ["true"],
            });
        }
        var inventoryPath = Path.Combine(lab.Dir, InventoryFileName);
        await File.WriteAllTextAsync(inventoryPath, inventory.ToYaml(), ct);

        sw.Restart();
        var first = lab.ControlPlanes.First();
        var firstNode = new LocalNode(first.Name, lab.NodeRoot(first));
        var caPem = Encoding.ASCII.GetString((await firstNode.ReadFileAsync(KubeadmPaths.Default.CaCert, ct))!);
        var saKey = PrivateKey.FromPem(Encoding.ASCII.GetString((await firstNode.ReadFileAsync(KubeadmPaths.Default.ServiceAccountKey, ct))!), "sa.key");
        using var api = ClusterApi.FromKubeconfig(lab.AdminKubeconfig);
        var k = api.Client;
        await Task.WhenAll(added.Select(async node =>
        {
            await api.CallAsync($"create Node {node.Name}", t => k.CoreV1.CreateNodeAsync(LabSeeder.NodeObject(node, time.GetUtcNow()), cancellationToken: t), ct);
            await api.CallAsync($"create Lease {node.Name}", t => k.CoordinationV1.CreateNamespacedLeaseAsync(NodeLease(node.Name, time.GetUtcNow()), "kube-node-lease", cancellationToken: t), ct);
        }));
        Console.WriteLine($"grow: {added.Count} Nodes and Leases created in {sw.Elapsed.TotalSeconds:F1} s");

        sw.Restart();
        var hosts = added.Count > 0 ? added.Select(n => n.Name).ToList() : lab.Workers.Select(n => n.Name).ToList();
        var toAdd = Enumerable.Range(lab.Namespaces + 1, Math.Max(0, namespaces - lab.Namespaces)).ToList();
        var statusPatched = 0;
        var done = 0;
        await Task.WhenAll(toAdd.Select(async i =>
        {
            var ns = $"lab-{i}";
            await api.CallAsync($"create Namespace {ns}", t => k.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, cancellationToken: t), ct);
            var sa = await api.CallAsync($"create ServiceAccount {ns}/app", t => k.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "app" } }, ns, cancellationToken: t), ct);
            // The controller-manager's root-ca-cert-publisher may have made it already: then its one stays.
            await api.TryCreateConfigMapAsync(LabSeeder.RootCaConfigMap(caPem).WithNamespace(ns), ct);
            var secret = LabSeeder.LegacyTokenSecret(ns, "app", sa.Metadata.Uid ?? "", "app-token", caPem, saKey);
            secret.Metadata.NamespaceProperty = ns;
            await api.TryCreateSecretAsync(secret, ct);
            var pod = await api.CallAsync($"create Pod {ns}/app-0", t => k.CoreV1.CreateNamespacedPodAsync(WorkloadPod(hosts[i % hosts.Count], time.GetUtcNow()), ns, cancellationToken: t), ct);
            if (pod.Status?.Phase != "Running")
            {
                // kube-apiserver ignores status on create; the lab's stand-in keeps it. Either way the pod ends Running.
                var status = WorkloadPod(hosts[i % hosts.Count], time.GetUtcNow()).Status;
                await api.CallAsync($"set status of Pod {ns}/app-0", t => k.CoreV1.PatchNamespacedPodStatusAsync(
                    new V1Patch(KubernetesJson.Serialize(new V1Pod { Status = status }), V1Patch.PatchType.MergePatch), "app-0", ns, cancellationToken: t), ct);
                Interlocked.Increment(ref statusPatched);
            }
            if (Interlocked.Increment(ref done) % 500 == 0) Console.WriteLine($"grow: {done} namespaces ({sw.Elapsed.TotalSeconds:F0} s)");
        }));
        Console.WriteLine($"grow: {toAdd.Count} namespaces (ServiceAccount, kube-root-ca.crt, token Secret, Running Pod each) created in {sw.Elapsed.TotalSeconds:F1} s"
            + (statusPatched > 0 ? $"; {statusPatched} pod statuses set through /status" : ""));
        Console.WriteLine($"grow: inventory {inventoryPath}");
        return 0;
    }

    private static V1ConfigMap WithNamespace(this V1ConfigMap configMap, string ns)
    {
        configMap.Metadata.NamespaceProperty = ns;
        return configMap;
    }

    /// <summary>The node Lease as the lab's kubelet heartbeat writes it (holder, 40 s, renewTime; no acquireTime, as the real kubelet).</summary>
    private static V1Lease NodeLease(string node, DateTimeOffset now) => new()
    {
        Metadata = new V1ObjectMeta { Name = node, NamespaceProperty = "kube-node-lease" },
        Spec = new V1LeaseSpec { HolderIdentity = node, LeaseDurationSeconds = 40, RenewTime = now.UtcDateTime },
    };

    /// <summary>The pod the seeder's Deployment app would run (service account app, token mounted), bound to a node and Running.</summary>
    private static V1Pod WorkloadPod(string node, DateTimeOffset now) => new()
    {
        Metadata = new V1ObjectMeta { Name = "app-0", Labels = new Dictionary<string, string> { ["app"] = "app" } },
        Spec = new V1PodSpec { NodeName = node, ServiceAccountName = "app", Containers = [new V1Container { Name = "app", Image = "registry.example/app:1" }] },
        Status = new V1PodStatus
        {
            Phase = "Running", StartTime = now.UtcDateTime,
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = now.UtcDateTime }],
            ContainerStatuses = [new V1ContainerStatus { Name = "app", Image = "registry.example/app:1", ImageID = "", Ready = true, RestartCount = 0, Started = true, State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = now.UtcDateTime } } }],
        },
    };
}
