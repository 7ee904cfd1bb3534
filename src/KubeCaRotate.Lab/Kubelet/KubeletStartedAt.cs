using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The lab's systemd ActiveEnterTimestamp of the kubelet: the node agent writes when it started, before it reads any
/// file, to DIR/run/NODE/kubelet.started in systemd's format with TZ=UTC ("Sun 2026-11-29 10:01:02 UTC"), so the
/// inventory's kubeletStartedAt command is a plain `cat` of it and one parser reads both the lab and systemctl. Like
/// systemd's timestamp it stays after the kubelet stops; `lab kubelet-started` prints it, or "n/a" when the kubelet
/// never started.
/// </summary>
public static class KubeletStartedAt
{
    public const string NeverStarted = "n/a";

    public static string FilePath(LabTopology lab, string node) => Path.Combine(lab.RunDir, node, "kubelet.started");

    /// <summary>The inventory's kubeletStartedAt command for a node.</summary>
    public static List<string> Command(LabTopology lab, string node) => ["cat", FilePath(lab, node)];

    public static void Record(LabTopology lab, string node, DateTimeOffset startedAt)
    {
        var path = FilePath(lab, node);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", SystemdTimestamp.Format(startedAt) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static string Show(LabTopology lab, string nodeName)
    {
        var path = FilePath(lab, lab.Node(nodeName).Name);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : NeverStarted;
    }
}
