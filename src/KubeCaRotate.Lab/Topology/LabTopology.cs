using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Topology;

/// <summary>
/// The shape of a lab cluster: its nodes with their addresses and ports, the HA endpoint, the workloads to seed.
/// Saved as DIR/lab.json so that every later command (status, down, the node agents) reads the same facts.
/// </summary>
public sealed record LabTopology
{
    public const string FileName = "lab.json";

    public required string Dir { get; init; }

    public required IReadOnlyList<LabNode> Nodes { get; init; }

    /// <summary>The HA endpoint (load balancer) address and port: kubeadm's controlPlaneEndpoint.</summary>
    public required string EndpointAddress { get; init; }

    public required int EndpointPort { get; init; }

    public int Namespaces { get; init; }

    public KeyAlgorithm Algorithm { get; init; } = KeyAlgorithm.EcdsaP256;

    /// <summary>How often node agents re-read their manifests directory (the kubelet's fileCheckFrequency; 20 s on a real node).</summary>
    public TimeSpan FileCheckFrequency { get; init; } = TimeSpan.FromSeconds(1);

    public string ControlPlaneEndpoint => $"{EndpointAddress}:{EndpointPort}";

    public string EndpointUrl => $"https://{ControlPlaneEndpoint}";

    public IEnumerable<LabNode> ControlPlanes => Nodes.Where(n => n.IsControlPlane);

    public IEnumerable<LabNode> Workers => Nodes.Where(n => !n.IsControlPlane);

    public LabNode Node(string name) =>
        Nodes.FirstOrDefault(n => n.Name == name) ?? throw new ArgumentException($"The lab in {Dir} has no node {name}; its nodes are {string.Join(", ", Nodes.Select(n => n.Name))}.");

    public string NodeRoot(LabNode node) => Path.Combine(Dir, node.RootRelative);

    public string RunDir => Path.Combine(Dir, "run");

    public string LogDir => Path.Combine(Dir, "logs");

    public string AdminKubeconfig => Path.Combine(Dir, "admin.conf");

    public string InventoryFile => Path.Combine(Dir, "inventory.yaml");

    public string FaultFile => Path.Combine(Dir, "faults.json");

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public void Save() => File.WriteAllText(Path.Combine(Dir, FileName), JsonSerializer.Serialize(this, JsonOptions));

    public static LabTopology Load(string dir)
    {
        var full = Path.GetFullPath(dir);
        var file = Path.Combine(full, FileName);
        if (!File.Exists(file))
            throw new LabException($"{full} holds no lab ({FileName} is missing); create one with 'kube-ca-rotate lab up --dir {dir}'.");
        return (JsonSerializer.Deserialize<LabTopology>(File.ReadAllText(file), JsonOptions) ?? throw new LabException($"{file} is empty; remove the directory and run lab up again."))
            with { Dir = full };
    }

    /// <summary>
    /// Plans a lab: control-plane nodes cp-1.. on 127.0.0.11.., workers worker-1.. on 127.0.0.101.., the endpoint on
    /// 127.0.0.10, every port freshly chosen so that several labs can run side by side.
    /// </summary>
    public static LabTopology Plan(string dir, int controlPlanes, int workers, int namespaces, KeyAlgorithm algorithm)
    {
        if (controlPlanes is < 1 or > 9) throw new LabException($"--control-planes {controlPlanes}: a lab has 1 to 9 control-plane nodes.");
        if (workers is < 0 or > 80) throw new LabException($"--workers {workers}: a lab has 0 to 80 workers.");
        if (namespaces is < 0 or > 5000) throw new LabException($"--namespaces {namespaces}: a lab has 0 to 5000 namespaces.");
        var ports = new PortAllocator();
        var nodes = new List<LabNode>();
        for (var i = 1; i <= controlPlanes; i++)
        {
            var address = $"127.0.0.{10 + i}";
            nodes.Add(new LabNode
            {
                Name = $"cp-{i}", IsControlPlane = true, Address = address,
                ApiServerPort = ports.Next(address), EtcdClientPort = ports.Next(address), EtcdPeerPort = ports.Next(address),
                EtcdMetricsPort = ports.Next("127.0.0.1"), ControllerManagerPort = ports.Next("127.0.0.1"), SchedulerPort = ports.Next("127.0.0.1"),
                KubeletPort = ports.Next(address), KubeletHealthzPort = ports.Next("127.0.0.1"),
            });
        }
        for (var j = 1; j <= workers; j++)
        {
            var address = $"127.0.0.{100 + j}";
            nodes.Add(new LabNode
            {
                Name = $"worker-{j}", IsControlPlane = false, Address = address,
                KubeletPort = ports.Next(address), KubeletHealthzPort = ports.Next("127.0.0.1"),
            });
        }
        var endpoint = "127.0.0.10";
        var topology = new LabTopology
        {
            Dir = Path.GetFullPath(dir), Nodes = nodes, EndpointAddress = endpoint, EndpointPort = ports.Next(endpoint),
            Namespaces = namespaces, Algorithm = algorithm,
        };
        ports.Release();
        return topology;
    }

    /// <summary>
    /// Finds free ports by binding them and holds them until every port of the plan is chosen, so none repeats. Ports
    /// are taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), from a random start: a port the
    /// kernel hands out for binding port 0 is one it also hands out as the source port of outgoing connections, and a
    /// component of this or another lab could then find its port taken by a client's connection ("address already in
    /// use") when it starts.
    /// </summary>
    private sealed class PortAllocator
    {
        private const int Lowest = 20000;
        private readonly List<Socket> _held = [];
        private readonly int _below = EphemeralLow();
        private int _next;

        public PortAllocator() => _next = Random.Shared.Next(Lowest, _below);

        public int Next(string address)
        {
            for (var tries = 0; tries < _below - Lowest; tries++)
            {
                var port = _next;
                _next = _next + 1 >= _below ? Lowest : _next + 1;
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    // Also check the port is free on the wildcard-free loopback address the component will use.
                    socket.Bind(new IPEndPoint(IPAddress.Parse(address), port));
                    _held.Add(socket);
                    return port;
                }
                catch (SocketException)
                {
                    socket.Dispose();
                }
            }
            throw new LabException($"No free port on {address} between {Lowest} and {_below - 1}; stop other labs (kube-ca-rotate lab down) and try again.");
        }

        private static int EphemeralLow()
        {
            try
            {
                var low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
                return low > Lowest + 1000 ? low : 32768;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return 32768;
            }
        }

        public void Release()
        {
            foreach (var s in _held) s.Dispose();
            _held.Clear();
        }
    }
}

/// <summary>A lab command that cannot go on; the message names the directory, node or process and what to do.</summary>
public sealed class LabException(string message, Exception? inner = null) : Exception(message, inner);
