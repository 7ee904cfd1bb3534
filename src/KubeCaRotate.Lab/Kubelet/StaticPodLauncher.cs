using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Processes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// Turns a static pod manifest into the process the lab runs for it: the real etcd binary with the manifest's flags
/// (node paths mapped into the node's root directory), or this tool's stand-in for a Kubernetes component, which maps
/// paths itself. Returns null for a component the lab cannot run.
/// </summary>
public static class StaticPodLauncher
{
    public static (string FileName, IReadOnlyList<string> Arguments)? Command(StaticPodManifest manifest, string nodeRoot, string labDir, string nodeName)
    {
        var args = manifest.Command.Skip(1).ToList();
        switch (manifest.Binary)
        {
            case "etcd":
                return (FindOnPath("etcd") ?? throw new FileNotFoundException("The etcd binary is not installed; run scripts/install-deps.sh (Debian package etcd-server)."),
                    args.Select(a => MapFlagPath(a, nodeRoot)).ToList());
            case "kube-apiserver" or "kube-controller-manager" or "kube-scheduler":
                var exe = LabExecutable.Command();
                return (exe[0], [.. exe.Skip(1), "lab", "component", manifest.Binary, "--root", nodeRoot, "--lab-dir", labDir, "--node", nodeName, "--", .. args]);
            default:
                return null;
        }
    }

    /// <summary>"--flag=/abs/path" becomes "--flag=ROOT/abs/path"; URLs, relative values and other flags are left alone.</summary>
    public static string MapFlagPath(string arg, string nodeRoot)
    {
        var eq = arg.IndexOf('=');
        if (!arg.StartsWith("--", StringComparison.Ordinal) || eq < 0) return arg;
        var value = arg[(eq + 1)..];
        return value.StartsWith('/') ? arg[..(eq + 1)] + Path.Join(nodeRoot, value) : arg;
    }

    public static string? FindOnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
