using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// What a component read when it started: a copy, taken at its start, of every node file its flags name (certificates,
/// keys, CA bundles, kubeconfigs), kept under DIR/run/NODE/loaded/COMPONENT/ with the node path below it. A component
/// that reads a file only at start keeps trusting what was there then, whatever is on disk now; the prober and the
/// trust checks use this copy for such files. Keys stay 0600.
/// </summary>
public static class LoadedFiles
{
    public static string Dir(LabTopology lab, string node, string component) => Path.Combine(lab.RunDir, node, "loaded", component);

    /// <summary>The copy of <paramref name="nodePath"/> the component loaded at its start, or null.</summary>
    public static string? Find(LabTopology lab, string node, string component, string nodePath)
    {
        var path = Path.Join(Dir(lab, node, component), nodePath);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Snapshots every file named by a static pod's flags.</summary>
    public static void SnapshotManifest(LabTopology lab, LabNode node, string component, StaticPodManifest manifest) =>
        Snapshot(lab, node, component, manifest.Flags.Select(f => f.Value).OfType<string>().Where(v => v.StartsWith('/')));

    /// <summary>Snapshots the given node files (those that exist) for a component, replacing any earlier snapshot.</summary>
    public static void Snapshot(LabTopology lab, LabNode node, string component, IEnumerable<string> nodePaths)
    {
        var target = Dir(lab, node.Name, component);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.CreateDirectory(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var root = lab.NodeRoot(node);
        foreach (var nodePath in nodePaths.Distinct())
        {
            var host = Path.Join(root, nodePath);
            if (!File.Exists(host)) continue;
            var copy = Path.Join(target, nodePath);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Copy(host, copy, overwrite: true);
            File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>
    /// Records content a component read from somewhere other than a node file (a pod's projected service-account
    /// volume, from API objects): each node path gets the given bytes, replacing any earlier snapshot.
    /// </summary>
    public static void Write(LabTopology lab, LabNode node, string component, IReadOnlyDictionary<string, byte[]> files)
    {
        var target = Dir(lab, node.Name, component);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        foreach (var (nodePath, content) in files) WriteOne(target, nodePath, content);
    }

    /// <summary>Adds one file to a component's snapshot: content the running component read itself at its start (not through a node file).</summary>
    public static void Record(LabTopology lab, LabNode node, string component, string nodePath, byte[] content) =>
        WriteOne(Dir(lab, node.Name, component), nodePath, content);

    /// <summary>Replaces one file of a component's snapshot, e.g. the kubelet's client certificate after a rotation it swapped in.</summary>
    public static void Refresh(LabTopology lab, LabNode node, string component, string nodePath)
    {
        var host = Path.Join(lab.NodeRoot(node), nodePath);
        if (File.Exists(host)) WriteOne(Dir(lab, node.Name, component), nodePath, File.ReadAllBytes(host));
    }

    /// <summary>Removes a component's snapshot (a pod that is gone).</summary>
    public static void Forget(LabTopology lab, string node, string component)
    {
        var target = Dir(lab, node, component);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
    }

    private static void WriteOne(string target, string nodePath, byte[] content)
    {
        var copy = Path.Join(target, nodePath);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = copy + ".tmp";
        File.WriteAllBytes(temp, content);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, copy, overwrite: true);
    }
}
