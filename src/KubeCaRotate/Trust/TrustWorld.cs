using KubeCaRotate.Cluster;

namespace KubeCaRotate.Trust;

/// <summary>
/// The state the trust model reasons about: files on disk with their modification times, object fields with their
/// change times, when each component started, and what components are known to have loaded. A what-if applies
/// <see cref="ProposedChange"/>s to a copy; nothing here does I/O.
/// </summary>
internal sealed class TrustWorld
{
    public sealed class NodeState
    {
        public required string Name { get; init; }
        public required IReadOnlyList<string> Roles { get; init; }
        public string? Address { get; init; }
        public Dictionary<string, (byte[]? Content, DateTimeOffset? ModifiedAt)> Files { get; init; } = new(StringComparer.Ordinal);
        public bool IsControlPlane => Roles.Contains("control-plane");
        public byte[]? File(string path) => Files.TryGetValue(path, out var f) ? f.Content : null;
    }

    public DateTimeOffset At { get; set; }
    public Dictionary<string, NodeState> Nodes { get; } = new(StringComparer.Ordinal);
    public Dictionary<(ObjectRef Object, string Field), (string? Pem, DateTimeOffset? ChangedAt)> Objects { get; } = [];
    public Dictionary<string, PodFacts> Pods { get; } = new(StringComparer.Ordinal);
    public Dictionary<(string Node, string Component), DateTimeOffset?> Starts { get; } = [];
    /// <summary>Why a component's start is not known, when the node said (the kubelet's start command failed).</summary>
    public Dictionary<(string Node, string Component), string> StartUnknown { get; } = [];
    /// <summary>Kubelets the node says do not run, with systemd's ActiveState (inactive, failed, ...); a kubelet restart starts one.</summary>
    public Dictionary<string, string> StoppedKubelets { get; } = new(StringComparer.Ordinal);
    public Dictionary<(string Node, string Component, string Path), byte[]?> Frozen { get; } = [];
    public Dictionary<(string Pod, ObjectRef Object, string Field), string?> FrozenObjects { get; } = [];
    public ClusterObjects? ObjectFacts { get; set; }
    public NodeFile? OperatorKubeconfig { get; set; }
    public string? OperatorContext { get; set; }
    public List<string> Problems { get; } = [];

    public static TrustWorld From(ClusterSnapshot snapshot, DateTimeOffset at)
    {
        var w = new TrustWorld { At = at, ObjectFacts = snapshot.Objects, OperatorKubeconfig = snapshot.OperatorKubeconfig, OperatorContext = snapshot.OperatorContext };
        w.Problems.AddRange(snapshot.Problems);
        foreach (var n in snapshot.Nodes)
        {
            var state = new NodeState { Name = n.Name, Roles = n.Roles, Address = n.Address };
            foreach (var (path, f) in n.Files) state.Files[path] = (f.Content, f.ModifiedAt);
            w.Nodes[n.Name] = state;
        }
        if (snapshot.Objects is { } o)
        {
            foreach (var d in o.CaData) w.Objects[(d.Object, d.Field)] = (d.Pem, d.ChangedAt);
            foreach (var p in o.Pods)
            {
                if (p.IsMirror)
                {
                    if (p.NodeName is not null) w.Starts[(p.NodeName, p.MirrorComponent!)] = p.StartedAt;
                }
                else
                {
                    w.Pods[p.Id] = p;
                }
            }
            foreach (var n in o.Nodes) w.Starts[(n.Name, ComponentReloads.Kubelet)] = n.KubeletStartedAt;
        }
        // The node's own answer (systemd's ActiveEnterTimestamp, and ActiveState for a stopped kubelet) is the kubelet's start; the Node object rarely knows it.
        foreach (var n in snapshot.Nodes)
        {
            if (n.KubeletStart is not { } start) continue;
            if (start.NotRunning is { } state) w.StoppedKubelets[n.Name] = state;
            if (start.StartedAt is { } startedAt) w.Starts[(n.Name, ComponentReloads.Kubelet)] = startedAt;
            else if (start.Unknown is { } why && w.Starts.GetValueOrDefault((n.Name, ComponentReloads.Kubelet)) is null) w.StartUnknown[(n.Name, ComponentReloads.Kubelet)] = why;
        }
        foreach (var l in snapshot.Loaded) w.Frozen[(l.Node, l.Component, l.Path)] = l.Content;
        return w;
    }

    public TrustWorld Clone()
    {
        var w = new TrustWorld { At = At, ObjectFacts = ObjectFacts, OperatorKubeconfig = OperatorKubeconfig, OperatorContext = OperatorContext };
        w.Problems.AddRange(Problems);
        foreach (var (k, n) in Nodes)
            w.Nodes[k] = new NodeState { Name = n.Name, Roles = n.Roles, Address = n.Address, Files = new(n.Files, StringComparer.Ordinal) };
        foreach (var (k, v) in Objects) w.Objects[k] = v;
        foreach (var (k, v) in Pods) w.Pods[k] = v;
        foreach (var (k, v) in Starts) w.Starts[k] = v;
        foreach (var (k, v) in StartUnknown) w.StartUnknown[k] = v;
        foreach (var (k, v) in StoppedKubelets) w.StoppedKubelets[k] = v;
        foreach (var (k, v) in Frozen) w.Frozen[k] = v;
        foreach (var (k, v) in FrozenObjects) w.FrozenObjects[k] = v;
        return w;
    }

    private static readonly string[] NodeComponents =
        [ComponentReloads.ApiServer, ComponentReloads.ControllerManager, ComponentReloads.Scheduler, ComponentReloads.Etcd, ComponentReloads.Kubelet];

    /// <summary>Applies one change as it would happen at <see cref="At"/>: components that read at start keep what they loaded.</summary>
    public void Apply(ProposedChange change, string manifestsDir)
    {
        switch (change)
        {
            case ProposedChange.FileWrite write:
            {
                if (!Nodes.TryGetValue(write.Node, out var node)) throw new ArgumentException($"There is no node {write.Node} in the snapshot; the what-if can only change known nodes.");
                var view = new WorldView(this, loaded: true);
                foreach (var component in NodeComponents)
                {
                    var key = (write.Node, component, write.Path);
                    if (Frozen.ContainsKey(key)) continue;
                    var current = view.File(write.Node, component, write.Path, readAtStart: true);
                    if (current.Unknown is null) Frozen[key] = current.Content; // what it loaded stays what it uses
                }
                node.Files[write.Path] = (write.Content, At);
                if (write.Path.StartsWith(manifestsDir + "/", StringComparison.Ordinal) && write.Path.EndsWith(".yaml", StringComparison.Ordinal))
                    Apply(new ProposedChange.Restart(write.Node, Path.GetFileNameWithoutExtension(write.Path)), manifestsDir);
                break;
            }
            case ProposedChange.ObjectWrite obj:
            {
                var view = new WorldView(this, loaded: true);
                foreach (var pod in Pods.Values.Where(p => p.Namespace == obj.Object.Namespace))
                {
                    var key = (pod.Id, obj.Object, obj.Field);
                    if (FrozenObjects.ContainsKey(key)) continue;
                    var current = view.PodObject(pod, obj.Object, obj.Field);
                    if (current.Unknown is null) FrozenObjects[key] = current.Content is null ? null : System.Text.Encoding.ASCII.GetString(current.Content);
                }
                Objects[(obj.Object, obj.Field)] = (obj.Pem, At);
                break;
            }
            case ProposedChange.Restart restart:
            {
                Starts[(restart.Node, restart.Component)] = At;
                StartUnknown.Remove((restart.Node, restart.Component));
                if (restart.Component == ComponentReloads.Kubelet) StoppedKubelets.Remove(restart.Node); // systemctl restart starts a stopped unit
                foreach (var key in Frozen.Keys.Where(k => k.Node == restart.Node && k.Component == restart.Component).ToList()) Frozen.Remove(key);
                break;
            }
            case ProposedChange.RestartPods pods:
            {
                foreach (var pod in Pods.Values.Where(p => (pods.Namespace == "*" || p.Namespace == pods.Namespace) && (pods.Name == "*" || p.Name == pods.Name)).ToList())
                {
                    Pods[pod.Id] = pod with { StartedAt = At };
                    foreach (var key in FrozenObjects.Keys.Where(k => k.Pod == pod.Id).ToList()) FrozenObjects.Remove(key);
                }
                break;
            }
            default:
                throw new ArgumentException($"Unknown change {change}.");
        }
    }
}
