namespace KubeCaRotate.Lab.Processes;

/// <summary>
/// How to start this tool again as a lab component (API server stand-in, node agent, load balancer): the
/// kube-ca-rotate executable beside the running assembly, or `dotnet kube-ca-rotate.dll` when only the dll is there.
/// </summary>
public static class LabExecutable
{
    public static IReadOnlyList<string> Command()
    {
        var process = Environment.ProcessPath;
        if (process is not null && Path.GetFileName(process) == "kube-ca-rotate") return [process];
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, "kube-ca-rotate");
        if (File.Exists(apphost)) return [apphost];
        var dll = Path.Combine(dir, "kube-ca-rotate.dll");
        if (File.Exists(dll)) return [process ?? "dotnet", dll];
        throw new FileNotFoundException($"Cannot find the kube-ca-rotate executable next to {dir}; build src/KubeCaRotate.Cli first.");
    }
}
