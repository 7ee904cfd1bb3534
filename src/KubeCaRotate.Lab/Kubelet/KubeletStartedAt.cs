using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The lab's `systemctl show kubelet --property=ActiveState --property=ActiveEnterTimestamp` (see
/// <see cref="SystemdUnitActivity"/>): the node agent writes when it started, before it reads any file, to
/// DIR/run/NODE/kubelet.started in systemd's format with TZ=UTC ("Sun 2026-11-29 10:01:02 UTC"); like systemd's
/// timestamp it stays after the kubelet stops. The state is "active" while the agent recorded in DIR/run/NODE/agent.pid
/// runs (same pid and start time), "inactive" otherwise. `lab kubelet-started` prints both lines, and the inventory's
/// kubeletStartedAt command (<see cref="Command"/>) prints the same with sh and awk, so one parser reads the lab and
/// systemctl and a read of 50 nodes does not start 50 .NET processes.
/// </summary>
public static class KubeletStartedAt
{
    public static string FilePath(LabTopology lab, string node) => Path.Combine(lab.RunDir, node, "kubelet.started");

    /// <summary>
    /// The inventory's kubeletStartedAt command for a node: "active" when /proc/PID/stat of the agent.pid's pid shows
    /// the recorded start ticks (field 22) and a live state (field 3), as <see cref="Processes.ProcessIdentity.IsAlive"/> checks.
    /// </summary>
    public static List<string> Command(LabTopology lab, string node) =>
    [
        "sh", "-c",
        """
        state=inactive
        if [ -r "$1" ] && { read -r pid; read -r ticks; } < "$1" && [ -r "/proc/$pid/stat" ] &&
           awk -v ticks="$ticks" '{ sub(/^.*\) /, ""); exit !($1 != "Z" && $1 != "X" && $20 == ticks) }' "/proc/$pid/stat"; then
          state=active
        fi
        printf 'ActiveState=%s\nActiveEnterTimestamp=%s\n' "$state" "$(cat "$2" 2>/dev/null)"
        """,
        "kubelet-started", NodeAgentProcess.PidFile(lab, lab.Node(node)), FilePath(lab, node),
    ];

    public static void Record(LabTopology lab, string node, DateTimeOffset startedAt)
    {
        var path = FilePath(lab, node);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", SystemdTimestamp.Format(startedAt) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>What `systemctl show` would print: ActiveState, then ActiveEnterTimestamp (empty when the kubelet never started).</summary>
    public static string Show(LabTopology lab, string nodeName, TimeProvider time)
    {
        var node = lab.Node(nodeName);
        var path = FilePath(lab, node.Name);
        var state = NodeAgentProcess.Find(lab, node, time) is null ? "inactive" : "active";
        var started = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        return $"{SystemdUnitActivity.ActiveStateProperty}={state}\n{SystemdUnitActivity.ActiveEnterTimestampProperty}={started}";
    }
}
