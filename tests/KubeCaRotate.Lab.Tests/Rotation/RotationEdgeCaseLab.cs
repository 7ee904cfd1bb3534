using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using KubeCaRotate.Cli.Rotation;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Tests.Prober;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// One single-control-plane lab (1 control plane + 1 worker, 2 namespaces) for the rotation's edge cases, and the
/// operator's commands run as the real executable: with an environment (the wait timeout) and a look at every
/// progress line as it is printed (to break something at a chosen step).
/// </summary>
public sealed class RotationEdgeCaseLab : IAsyncLifetime
{
    /// <summary>Each wait of a run (a component back after its restart, a rollout) ends after this long, so a fault fails fast.</summary>
    public const string WaitTimeout = "30s";

    public LabTopology Lab { get; private set; } = null!;

    public string Dir => Lab.Dir;

    public string Inventory => Path.Combine(Dir, "inventory.yaml");

    public string NodesDir => Path.Combine(Dir, "nodes");

    public async Task InitializeAsync() =>
        Lab = await TestLab.UpAsync(new LabUpOptions(TestLab.NewDir("kcr-edge-"), ControlPlanes: 1, Workers: 1, Namespaces: 2) { ReadyTimeout = TimeSpan.FromMinutes(3) });

    public Task DisposeAsync() => TestLab.DownAndRemoveAsync(Dir);

    /// <summary>
    /// Runs `kube-ca-rotate ARGS` to its end with <see cref="TargetCluster.WaitTimeoutVariable"/> = <see cref="WaitTimeout"/>;
    /// <paramref name="onLine"/> sees every line of stdout and stderr as it comes (progress lines are flushed one by one).
    /// </summary>
    public async Task<ToolRun> RunAsync(IEnumerable<string> args, Action<string>? onLine = null)
    {
        var exe = LabExecutable.Command();
        var info = new ProcessStartInfo(exe[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in exe.Skip(1).Concat(args)) info.ArgumentList.Add(a);
        info.Environment[TargetCluster.WaitTimeoutVariable] = WaitTimeout;
        using var process = Process.Start(info)!;
        var stdout = ReadLinesAsync(process.StandardOutput, onLine);
        var stderr = ReadLinesAsync(process.StandardError, onLine);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kube-ca-rotate {string.Join(' ', args)} did not finish within 10 minutes: {await stderr}");
        }
        return new ToolRun(process.ExitCode, await stdout, await stderr);
    }

    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string>? onLine)
    {
        var all = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            all.Append(line).Append('\n');
            onLine?.Invoke(line);
        }
        return all.ToString();
    }

    public Task<ToolRun> StartAsync(params string[] extra) => RunAsync(["start", "--inventory", Inventory, "--yes", .. extra]);

    public async Task<JsonElement> StatusAsync()
    {
        var run = await RunAsync(["status", "--inventory", Inventory, "-o", "json"]);
        run.EnsureExit(0);
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    /// <summary>The journal as it is on cp-1 (0600 beside the staged CAs), or null when there is none.</summary>
    public JsonElement? Journal()
    {
        var file = Path.Combine(NodesDir, "cp-1") + RotationPaths.Default.Journal;
        return File.Exists(file) ? JsonDocument.Parse(File.ReadAllText(file)).RootElement : null;
    }

    /// <summary>
    /// SHA-256 and mode of every file under DIR/nodes — every node's /etc/kubernetes and /var/lib/kubelet, and the
    /// rotation's state directories unless <paramref name="withRotationState"/> is false — but not etcd's live data
    /// (var/lib/etcd), which every API write changes. A symbolic link counts as its target path.
    /// </summary>
    public SortedDictionary<string, string> NodeFileHashes(bool withRotationState)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(NodesDir, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(NodesDir, file);
            if (relative.Split('/') is [_, "var", "lib", "etcd", ..]) continue;
            if (!withRotationState && relative.Contains(RotationPaths.StateDirName, StringComparison.Ordinal)) continue;
            var info = new FileInfo(file);
            result[relative] = info.LinkTarget is { } target
                ? "-> " + target
                : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) + " " + File.GetUnixFileMode(file);
        }
        return result;
    }

    /// <summary>The prober's report between two times, after letting it record at least one round past <paramref name="until"/>.</summary>
    public async Task<JsonElement> ReportAsync(DateTimeOffset since, DateTimeOffset until)
    {
        await new ProbeWatch(Lab).RoundsAsync(until, rounds: 1);
        var run = await RunAsync(["lab", "report", "--dir", Dir, "--since", since.ToString("O", CultureInfo.InvariantCulture), "--until", until.ToString("O", CultureInfo.InvariantCulture), "-o", "json"]);
        Assert.True(run.ExitCode is 0 or 1, $"lab report failed: {run.Stderr}");
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    /// <summary>Writes DIR/faults.json (re-read by the API server on change) atomically; null removes it.</summary>
    public void SetFaults(string? json)
    {
        if (json is null)
        {
            File.Delete(Lab.FaultFile);
            return;
        }
        var temp = Lab.FaultFile + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, Lab.FaultFile, overwrite: true);
    }
}
