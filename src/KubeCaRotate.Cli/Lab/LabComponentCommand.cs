using System.ComponentModel;
using System.Net;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.ApiServer;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Endpoint;
using KubeCaRotate.Lab.Etcd;
using KubeCaRotate.Lab.Scheduler;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Topology;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

/// <summary>
/// Runs one lab component in the foreground, as its static pod or `lab up` starts it:
/// `lab component kube-apiserver --root NODEROOT --lab-dir DIR --node NAME -- &lt;the manifest's flags&gt;`, or
/// `lab component load-balancer --lab-dir DIR`, or, as the kubelet stand-in runs a lab-aggregator pod's container,
/// `lab component aggregator --lab-dir DIR --node NAME --pod NAMESPACE/NAME [--port PORT]`. Not for people.
/// </summary>
public sealed class LabComponentCommand : AsyncCommand<LabComponentCommand.Settings>
{
    /// <summary>The component's own flags, taken from after "--" by <see cref="CliApp.Run"/> before option parsing.</summary>
    internal static IReadOnlyList<string> ComponentArguments { get; set; } = [];

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<COMPONENT>")]
        public string Component { get; init; } = "";

        [CommandOption("--root <DIR>")]
        [Description("The node's root directory: node paths in the flags are read from there.")]
        public string? Root { get; init; }

        [CommandOption("--lab-dir <DIR>")]
        public string? LabDir { get; init; }

        [CommandOption("--node <NAME>")]
        public string? Node { get; init; }

        [CommandOption("--pod <NAMESPACE/NAME>")]
        [Description("The pod whose container this is (aggregator).")]
        public string? Pod { get; init; }

        [CommandOption("--port <PORT>")]
        [Description("The port to serve on (aggregator; 0 or absent: any free port).")]
        public int Port { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var shutdown = new ShutdownSignal(cancellationToken);
        var args = ComponentArguments.ToList();
        switch (settings.Component)
        {
            case "kube-apiserver":
                await RunApiServerAsync(settings, args, shutdown.Token);
                return ExitCodes.Ok;
            case "kube-controller-manager":
            {
                var root = settings.Root ?? throw new UsageException("--root is required.");
                var options = ControllerManagerOptions.Parse(args, p => p.StartsWith('/') ? Path.Join(root, p) : p, Environment.GetEnvironmentVariable(ControllerManagerOptions.RolloutPaceVariable));
                Console.Out.WriteLine($"{DateTimeOffset.UtcNow:O} kube-controller-manager stand-in (node {settings.Node}); ignored flags: {string.Join(' ', options.IgnoredFlags)}");
                var kcm = ControllerManagerStandIn.Start(options, $"{settings.Node}_{Guid.NewGuid()}", p => p.StartsWith('/') ? Path.Join(root, p) : p, TimeProvider.System, Console.Out);
                await kcm.RunAsync(shutdown.Token);
                return ExitCodes.Ok;
            }
            case "kube-scheduler":
            {
                var root = settings.Root ?? throw new UsageException("--root is required.");
                var options = SchedulerOptions.Parse(args, p => p.StartsWith('/') ? Path.Join(root, p) : p);
                Console.Out.WriteLine($"{DateTimeOffset.UtcNow:O} kube-scheduler stand-in (node {settings.Node})");
                await SchedulerStandIn.Start(options, $"{settings.Node}_{Guid.NewGuid()}", p => p.StartsWith('/') ? Path.Join(root, p) : p, TimeProvider.System, Console.Out).RunAsync(shutdown.Token);
                return ExitCodes.Ok;
            }
            case "load-balancer":
                var lab = LabTopology.Load(settings.LabDir ?? throw new UsageException("--lab-dir is required."));
                var backends = lab.ControlPlanes.Select(n => new IPEndPoint(IPAddress.Parse(n.Address), n.ApiServerPort)).ToList();
                await new LoadBalancer(new IPEndPoint(IPAddress.Parse(lab.EndpointAddress), lab.EndpointPort), backends, TimeSpan.FromMilliseconds(500), Console.Out).RunAsync(shutdown.Token);
                return ExitCodes.Ok;
            case "aggregator":
            {
                var topology = LabTopology.Load(settings.LabDir ?? throw new UsageException("--lab-dir is required."));
                var node = topology.Node(settings.Node ?? throw new UsageException("--node is required."));
                var pod = (settings.Pod ?? throw new UsageException("--pod is required.")).Split('/');
                if (pod is not [{ Length: > 0 } ns, { Length: > 0 } name]) throw new UsageException($"--pod {settings.Pod}: give the pod as NAMESPACE/NAME.");
                Console.Out.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator container of pod {ns}/{name} on {node.Name} (pid {Environment.ProcessId})");
                await AggregatorEntrypoint.RunAsync(topology, node, ns, name, settings.Port, Console.Out, shutdown.Token);
                return ExitCodes.Ok;
            }
            case "prober":
                await new EdgeProber(LabTopology.Load(settings.LabDir ?? throw new UsageException("--lab-dir is required.")), TimeProvider.System, Console.Out).RunAsync(shutdown.Token);
                return ExitCodes.Ok;
            default:
                throw new UsageException($"The lab has no stand-in for '{settings.Component}'; it runs kube-apiserver, kube-controller-manager, kube-scheduler, aggregator, prober and load-balancer.");
        }
    }

    private static async Task RunApiServerAsync(Settings settings, IReadOnlyList<string> args, CancellationToken ct)
    {
        var root = settings.Root ?? throw new UsageException("--root is required.");
        var options = ApiServerOptions.Parse(args, p => p.StartsWith('/') ? Path.Join(root, p) : p);
        // kube-apiserver binds 0.0.0.0 unless told otherwise; the lab keeps every server on the node's loopback address.
        if (options.BindAddress.Equals(IPAddress.Any) && options.AdvertiseAddress is not null) options = options with { BindAddress = options.AdvertiseAddress };
        if (settings.LabDir is not null) options = options with { LabFaultFile = Path.Combine(Path.GetFullPath(settings.LabDir), "faults.json") };
        var etcd = EtcdClientSettings.FromFlags(string.Join(',', options.EtcdServers), options.EtcdCaFile ?? "", options.EtcdCertFile ?? "", options.EtcdKeyFile ?? "");
        using var store = new EtcdObjectStore(etcd);
        Console.Out.WriteLine($"{DateTimeOffset.UtcNow:O} kube-apiserver stand-in on {options.BindAddress}:{options.SecurePort} (node {settings.Node})");
        await ApiServerStandIn.RunAsync(options, store, ct);
    }
}
