using System.Text;
using KubeCaRotate.Cluster;

namespace KubeCaRotate.Trust;

/// <summary>Content as a component sees it: what is on disk, or what it loaded at its start (unknown when the file changed after).</summary>
internal readonly record struct Material(byte[]? Content, string Where, string? Unknown, string? Note);

/// <summary>
/// One way of looking at the world: <c>loaded</c> = what each component uses now (files it reads only at start are
/// as they were at its start), or on disk = what each component would use after a restart.
/// </summary>
internal sealed class WorldView(TrustWorld world, bool loaded)
{
    public bool Loaded => loaded;

    public TrustWorld World => world;

    public Material File(string node, string component, string path, bool readAtStart)
    {
        var where = $"{path} on {node}";
        world.Nodes.TryGetValue(node, out var n);
        var (content, modified) = n is not null && n.Files.TryGetValue(path, out var f) ? f : (null, (DateTimeOffset?)null);
        if (!loaded || !readAtStart) return new Material(content, where, null, null);
        if (world.Frozen.TryGetValue((node, component, path), out var frozen))
            return new Material(frozen, where + " (as loaded at its start)", null, null);
        var started = world.Starts.GetValueOrDefault((node, component));
        if (started is null)
            return new Material(content, where, null, $"{Describe.Component(component, node)} has no known start time"
                + (world.StartUnknown.TryGetValue((node, component), out var why) ? $" ({why})" : "") + $"; assuming it loaded {path} as it is on disk now.");
        if (modified is { } m && WholeSeconds(m) > started.Value)
            return new Material(null, where, $"{Describe.Component(component, node)} started at {Describe.Time(started.Value)}, before {path} changed at {Describe.Time(m)}, so it still uses the previous content; restart it to load the file on disk", null);
        return new Material(content, where, null, null);
    }

    /// <summary>An object field a workload pod read at its start (its service-account ca.crt).</summary>
    public Material PodObject(PodFacts pod, ObjectRef obj, string field)
    {
        var where = $"{obj} {field}";
        var (pem, changed) = world.Objects.TryGetValue((obj, field), out var o) ? o : (null, (DateTimeOffset?)null);
        var content = pem is null ? null : Encoding.ASCII.GetBytes(pem);
        if (!loaded) return new Material(content, where, null, null);
        if (world.FrozenObjects.TryGetValue((pod.Id, obj, field), out var frozen))
            return new Material(frozen is null ? null : Encoding.ASCII.GetBytes(frozen), where + " (as loaded at the pod's start)", null, null);
        if (pod.StartedAt is { } started && changed is { } c && WholeSeconds(c) > started)
            return new Material(null, where, $"pod {pod.Id} started at {Describe.Time(started)}, before {obj} changed at {Describe.Time(c)}, so it still trusts the previous CA data; restart the pod", null);
        return new Material(content, where, null, null);
    }

    /// <summary>An object field read continuously (watched), e.g. extension-apiserver-authentication by aggregated API servers.</summary>
    public Material Object(ObjectRef obj, string field)
    {
        var pem = world.Objects.TryGetValue((obj, field), out var o) ? o.Pem : null;
        return new Material(pem is null ? null : Encoding.ASCII.GetBytes(pem), $"{obj} {field}", null, null);
    }

    /// <summary>
    /// Start times (status.startTime) and object change times (managedFields) have a second's resolution: a file
    /// written within the second a component started counts as loaded by it (kubeadm writes, then restarts).
    /// </summary>
    private static DateTimeOffset WholeSeconds(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, t.Offset);
}
