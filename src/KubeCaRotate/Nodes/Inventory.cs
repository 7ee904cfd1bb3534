using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace KubeCaRotate.Nodes;

/// <summary>
/// One description of a cluster for every command (DESIGN.md, "the inventory"): what discovery from the API cannot
/// tell — how to reach each node and how to restart its kubelet. Commands are argument lists, never shell strings.
/// </summary>
public sealed class Inventory
{
    public const string ApiVersionValue = "kube-ca-rotate/v1";
    public const string KindValue = "Inventory";

    public string ApiVersion { get; set; } = ApiVersionValue;

    public string Kind { get; set; } = KindValue;

    public InventoryCluster Cluster { get; set; } = new();

    public List<InventoryNode> Nodes { get; set; } = [];

    /// <summary>The directory relative paths in the file are resolved against (the file's own directory).</summary>
    [YamlIgnore]
    public string BaseDirectory { get; set; } = Directory.GetCurrentDirectory();

    private static readonly IDeserializer Reader = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    private static readonly ISerializer Writer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
        .Build();

    public static Inventory Parse(string yaml, string source, string baseDirectory)
    {
        Inventory? inventory;
        try
        {
            inventory = Reader.Deserialize<Inventory>(yaml);
        }
        catch (YamlException e)
        {
            throw new InventoryException($"The inventory {source} is not valid (line {e.Start.Line}: {e.InnerException?.Message ?? e.Message}); fix it as described in the README.");
        }
        if (inventory is null) throw new InventoryException($"The inventory {source} is empty; list the cluster's nodes in it.");
        if (inventory.ApiVersion != ApiVersionValue || inventory.Kind != KindValue)
            throw new InventoryException($"The inventory {source} has apiVersion '{inventory.ApiVersion}' and kind '{inventory.Kind}'; expected {ApiVersionValue} and {KindValue}.");
        if (inventory.Nodes.Count == 0) throw new InventoryException($"The inventory {source} lists no nodes; add at least the control-plane nodes.");
        foreach (var n in inventory.Nodes)
        {
            if (string.IsNullOrWhiteSpace(n.Name)) throw new InventoryException($"The inventory {source} has a node without a name.");
            if (n.Access.Local is null && n.Access.Ssh is null)
                throw new InventoryException($"Node {n.Name} in the inventory {source} has no access: give access.local.root or access.ssh.host.");
        }
        var dup = inventory.Nodes.GroupBy(n => n.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InventoryException($"Node {dup.Key} appears twice in the inventory {source}.");
        inventory.BaseDirectory = baseDirectory;
        return inventory;
    }

    public static Inventory Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new InventoryException($"The inventory {full} does not exist; pass the path of an inventory file (a lab writes DIR/inventory.yaml).");
        return Parse(File.ReadAllText(full), full, Path.GetDirectoryName(full)!);
    }

    public string ToYaml() => Writer.Serialize(this);

    /// <summary>A path from the file, made absolute against <see cref="BaseDirectory"/>.</summary>
    public string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(BaseDirectory, path));

    public InventoryNode Node(string name) =>
        Nodes.FirstOrDefault(n => n.Name == name) ?? throw new InventoryException($"There is no node {name} in the inventory; the nodes are {string.Join(", ", Nodes.Select(n => n.Name))}.");

    [YamlIgnore]
    public IEnumerable<InventoryNode> ControlPlanes => Nodes.Where(n => n.IsControlPlane);

    /// <summary>
    /// A handle on the node's files and commands; the caller disposes it (that closes an SSH connection). An SSH node
    /// connects on its first operation, so an unreachable node fails there, with a sentence naming it.
    /// </summary>
    public INodeAccess Open(InventoryNode node) => node.Access switch
    {
        { Local: { } local } => new LocalNode(node.Name, Resolve(local.Root)),
        { Ssh: { } ssh } when string.IsNullOrWhiteSpace(ssh.Host) =>
            throw new InventoryException($"Node {node.Name} in the inventory has access.ssh without a host; set access.ssh.host to its address."),
        { Ssh: { } ssh } => new SshNode(node.Name, SshNodeOptions.FromInventory(ssh, Resolve)),
        _ => throw new InventoryException($"Node {node.Name} in the inventory has no access; give access.local.root or access.ssh.host."),
    };
}

public sealed class InventoryCluster
{
    /// <summary>The admin kubeconfig, relative to the inventory file.</summary>
    public string? Kubeconfig { get; set; }

    public string? Context { get; set; }

    public string KubernetesDir { get; set; } = "/etc/kubernetes";

    public string KubeletDir { get; set; } = "/var/lib/kubelet";
}

public sealed class InventoryNode
{
    public string Name { get; set; } = "";

    public List<string> Roles { get; set; } = [];

    /// <summary>The node's address (InternalIP), when known.</summary>
    public string? Address { get; set; }

    public NodeAccessSpec Access { get; set; } = new();

    /// <summary>Restarts the kubelet; default [systemctl, restart, kubelet].</summary>
    public List<string>? RestartKubelet { get; set; }

    /// <summary>
    /// Restarts one static pod without changing its manifest ("{component}" is replaced by e.g. kube-apiserver).
    /// When absent, the tool restarts a static pod by changing an annotation in its manifest, as kubeadm upgrade does.
    /// </summary>
    public List<string>? RestartStaticPod { get; set; }

    /// <summary>
    /// Prints whether the kubelet runs and when it last started, as systemd does ("ActiveState=active" and
    /// "ActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC"), or only the timestamp; default
    /// [env, TZ=UTC, systemctl, show, kubelet, --property=ActiveState, --property=ActiveEnterTimestamp]. See <see cref="SystemdUnitActivity"/>.
    /// </summary>
    public List<string>? KubeletStartedAt { get; set; }

    [YamlIgnore]
    public bool IsControlPlane => Roles.Contains("control-plane");

    [YamlIgnore]
    public IReadOnlyList<string> RestartKubeletCommand => RestartKubelet is { Count: > 0 } c ? c : ["systemctl", "restart", "kubelet"];

    /// <summary>
    /// Whether the unit runs (ActiveState: its ActiveEnterTimestamp stays after it stops) and the wall-clock time it
    /// last became active, in UTC whatever the node's zone (systemctl formats in TZ and only `show --timestamp=utc` of
    /// systemd 251+ would do it otherwise). Not ActiveEnterTimestampMonotonic: it counts
    /// from the node's boot on a clock that stops during suspend, so comparing it with file times needs the boot time too.
    /// </summary>
    [YamlIgnore]
    public IReadOnlyList<string> KubeletStartedAtCommand => KubeletStartedAt is { Count: > 0 } c ? c : ["env", "TZ=UTC", "systemctl", "show", "kubelet", "--property=ActiveState", "--property=ActiveEnterTimestamp"];
}

public sealed class NodeAccessSpec
{
    public LocalAccessSpec? Local { get; set; }

    public SshAccessSpec? Ssh { get; set; }
}

public sealed class LocalAccessSpec
{
    /// <summary>The directory standing for the node's "/": "/" on the node itself, a lab node's directory otherwise.</summary>
    public string Root { get; set; } = "/";
}

/// <summary>How to reach a node over SSH (see <see cref="SshNode"/>); the host key must be in <see cref="KnownHostsFile"/>.</summary>
public sealed class SshAccessSpec
{
    public string Host { get; set; } = "";

    public int Port { get; set; } = 22;

    /// <summary>The login user; the current user when absent.</summary>
    public string? User { get; set; }

    /// <summary>The private key (OpenSSH format, no passphrase); ~/.ssh/id_ed25519, id_ecdsa, id_rsa when absent.</summary>
    public string? IdentityFile { get; set; }

    /// <summary>The known_hosts file the host key is checked against; ~/.ssh/known_hosts when absent.</summary>
    public string? KnownHostsFile { get; set; }

    /// <summary>Run file operations and commands through <c>sudo -n</c> (for a login user that is not root).</summary>
    public bool Sudo { get; set; }

    /// <summary>The directory on the SSH host standing for the node's "/" (as access.local.root); "/" when absent.</summary>
    public string? Root { get; set; }
}

/// <summary>An inventory that cannot be used; the message names the file or node and what to fix.</summary>
public sealed class InventoryException(string message) : Exception(message);
