using KubeCaRotate.Cli.Output;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>How much a command needs the Kubernetes API.</summary>
public enum ApiUse
{
    /// <summary>A real run: the API side is built and any failure to build it stops the command.</summary>
    Required,

    /// <summary>A plan, dry run or status: the API is used when it answers, and the command still works from the node files when it does not.</summary>
    IfReachable,
}

/// <summary>
/// The cluster an inventory describes (a file, or one found from the API), as the rotation reaches it: its nodes,
/// kubeadm's paths there, and the API side over the rotation's own connection (built from a control-plane node's
/// admin.conf). The one place every rotation command and the demo build it.
/// </summary>
public sealed class TargetCluster : IDisposable
{
    private readonly RotationApiConnection? _connection;

    private TargetCluster(Inventory inventory, RotationCluster cluster, RotationApiConnection? connection, string? apiUnavailable)
    {
        Inventory = inventory;
        Cluster = cluster;
        _connection = connection;
        ApiUnavailable = apiUnavailable;
    }

    /// <summary>The cluster's description; the trust gate reads the nodes it lists.</summary>
    public Inventory Inventory { get; }

    /// <summary>The directory the inventory's relative paths resolve against (the inventory file's, or the kubeconfig's for a discovered one); the new admin kubeconfig goes there.</summary>
    public string BaseDirectory => Inventory.BaseDirectory;

    public RotationCluster Cluster { get; }

    /// <summary>Why the API is not used (<see cref="ApiUse.IfReachable"/> only), or null when it is.</summary>
    public string? ApiUnavailable { get; }

    /// <summary>
    /// The cluster with the trust graph as the engine's gate: the cluster is read once now (every node file and the API
    /// objects that carry CA data), and before each step the gate evaluates that state plus the changes of the steps it
    /// allowed plus the step's own, refusing a step that would break a connection that works.
    /// </summary>
    public Task<RotationCluster> WithTrustGateAsync(CancellationToken ct) =>
        Task.FromResult(Cluster with
        {
            TrustGateFactory = async token =>
            {
                var snapshot = await new ClusterReader(TimeProvider.System).ReadAsync(Inventory, null, null, null, token);
                return new TrustModelGate(snapshot, new global::KubeCaRotate.Trust.TrustModel(Cluster.Paths.Kubeadm));
            },
        });

    public static async Task<TargetCluster> OpenAsync(Inventory inventory, ApiUse use, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var nodes = RotationNodes.FromInventory(inventory);
        var own = inventory.Cluster.Kubeconfig is { Length: > 0 } k ? inventory.Resolve(k) : null;
        var kubernetesDir = inventory.Cluster.KubernetesDir.TrimEnd('/');
        var paths = new RotationPaths(new KubeadmPaths { KubernetesDir = kubernetesDir, CertificatesDir = kubernetesDir + "/pki", KubeletDir = inventory.Cluster.KubeletDir });
        if (use == ApiUse.IfReachable && await UnreachableAsync(nodes, paths, ct) is { } reason)
            return new TargetCluster(inventory, new RotationCluster(nodes, paths) { OperatorKubeconfig = own }, null, reason);

        var connection = new RotationApiConnection(nodes, paths);
        try
        {
            var api = ClusterRotationApi.Create(nodes, paths, connection, TimeProvider.System);
            if (WaitTimeout() is { } wait)
                api = api with
                {
                    Restarts = new ClusterRestartObserver(connection, nodes, paths, TimeProvider.System, wait),
                    Workloads = new ClusterWorkloads(connection, TimeProvider.System, wait),
                    RootCa = new ClusterRootCaWatch(connection, TimeProvider.System, wait),
                };
            return new TargetCluster(inventory, new RotationCluster(nodes, paths) { Api = api, OperatorKubeconfig = own }, connection, null);
        }
        catch (RotationException e) when (use == ApiUse.IfReachable)
        {
            connection.Dispose();
            return new TargetCluster(inventory, new RotationCluster(nodes, paths) { OperatorKubeconfig = own }, null, e.Message);
        }
        catch
        {
            connection.Dispose();
            nodes.Dispose();
            throw;
        }
    }

    /// <summary>The environment variable that bounds each wait (a component back after its restart, a rollout, a publication): a duration such as 90s or 10m; 5 minutes when unset.</summary>
    public const string WaitTimeoutVariable = "KUBE_CA_ROTATE_WAIT_TIMEOUT";

    private static TimeSpan? WaitTimeout() => Environment.GetEnvironmentVariable(WaitTimeoutVariable) switch
    {
        null or "" => null,
        var text when DurationOption.TryParse(text, out var wait) && wait > TimeSpan.Zero => wait,
        var text => throw new UsageException($"{WaitTimeoutVariable}='{text}' is not a duration such as 90s or 10m; set it to one or unset it."),
    };

    /// <summary>One quick call with a control-plane node's admin.conf, no retries; the reason when it fails, null when the API answers.</summary>
    private static async Task<string?> UnreachableAsync(RotationNodes nodes, RotationPaths paths, CancellationToken ct)
    {
        using var probe = new RotationApiConnection(nodes, paths, new ClusterApiOptions { MaxAttempts = 1, RequestTimeout = TimeSpan.FromSeconds(5) });
        try
        {
            await probe.CallAsync((api, c) => api.ListNamespacesAsync(c), ct);
            return null;
        }
        catch (Exception e) when (e is ClusterApiException or RotationException or NodeAccessException or IOException)
        {
            return e.Message;
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        Cluster.Nodes.Dispose();
    }
}
