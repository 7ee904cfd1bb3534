using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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
/// A lab for rotation tests, and the operator's commands run as the real executable: to their end, or killed with
/// SIGKILL after a while (as `kill -9` would), with every line of output seen as it is printed (progress lines are
/// flushed one by one, so a test can break something at a chosen step).
/// </summary>
public abstract class RotationLabFixture(string prefix, int controlPlanes, int workers) : IAsyncLifetime
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(15);

    public LabTopology Lab { get; private set; } = null!;

    public string Dir => Lab.Dir;

    public string Inventory => Path.Combine(Dir, "inventory.yaml");

    public string NodesDir => Path.Combine(Dir, "nodes");

    public async Task InitializeAsync() =>
        Lab = await TestLab.UpAsync(new LabUpOptions(TestLab.NewDir(prefix), ControlPlanes: controlPlanes, Workers: workers, Namespaces: 2) { ReadyTimeout = TimeSpan.FromMinutes(3) });

    public Task DisposeAsync() => TestLab.DownAndRemoveAsync(Dir);

    /// <summary>
    /// Runs `kube-ca-rotate ARGS` to its end (with <see cref="TargetCluster.WaitTimeoutVariable"/> set to
    /// <paramref name="waitTimeout"/> when given, so that a run meant to meet a fault fails fast), or until SIGKILL of the
    /// tool alone (the exit code is then null): <paramref name="killAfter"/> from its start, or the delay
    /// <paramref name="killAfterLine"/> gives for the first line it answers for (a kill point inside the steps, counted
    /// by their progress lines); <paramref name="onLine"/> sees every line of stdout and stderr as it comes.
    /// </summary>
    public async Task<ToolRun> RunAsync(IEnumerable<string> args, TimeSpan? killAfter = null, Action<string>? onLine = null, string? waitTimeout = null,
        Func<string, TimeSpan?>? killAfterLine = null)
    {
        using var cts = new CancellationTokenSource(killAfter ?? RunLimit);
        var killArmed = 0;
        if (killAfterLine is not null)
        {
            var seen = onLine;
            onLine = line =>
            {
                seen?.Invoke(line);
                if (Volatile.Read(ref killArmed) == 0 && killAfterLine(line) is { } delay && Interlocked.Exchange(ref killArmed, 1) == 0) cts.CancelAfter(delay);
            };
        }
        var exe = LabExecutable.Command();
        var info = new ProcessStartInfo(exe[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in exe.Skip(1).Concat(args)) info.ArgumentList.Add(a);
        if (waitTimeout is not null) info.Environment[TargetCluster.WaitTimeoutVariable] = waitTimeout;
        using var process = Process.Start(info)!;
        var stdout = ReadLinesAsync(process.StandardOutput, onLine);
        var stderr = ReadLinesAsync(process.StandardError, onLine);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
            if (killAfter is null && Volatile.Read(ref killArmed) == 0)
                throw new TimeoutException($"kube-ca-rotate {string.Join(' ', args)} did not finish within {RunLimit}; its last output (progress lines go to stdout unless -o json):\n{Last(await stdout)}\n{Last(await stderr)}");
            return new ToolRun(null, await stdout, await stderr);
        }
        return new ToolRun(process.ExitCode, await stdout, await stderr);
    }

    private static string Last(string output) => string.Join('\n', output.Split('\n').TakeLast(40));

    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string>? onLine)
    {
        var all = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            all.Append(line).Append('\n');
            onLine?.Invoke(line);
        }
        return all.ToString();
    }

    public Task<ToolRun> StartAsync(params string[] extra) => RunAsync(["start", "--inventory", Inventory, "--yes", .. extra]);

    public Task<ToolRun> CompleteAsync(params string[] extra) => RunAsync(["complete", "--inventory", Inventory, "--yes", .. extra]);

    public Task<ToolRun> RollbackAsync() => RunAsync(["rollback", "--inventory", Inventory, "--yes"]);

    public async Task<JsonElement> StatusAsync()
    {
        var run = await RunAsync(["status", "--inventory", Inventory, "-o", "json"]);
        run.EnsureExit(0);
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    /// <summary>
    /// `verify` exits 0 within <paramref name="within"/> (asked again every 5 s): right after a run, the kubelet that the
    /// run restarted last may not have published its static pods' status yet. A state that stays at risk or broken
    /// still fails, with the last verify's output.
    /// </summary>
    public async Task VerifyCleanAsync(TimeSpan within)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        while (true)
        {
            var verify = await RunAsync(["verify", "--inventory", Inventory]);
            if (verify.ExitCode == 0 || DateTimeOffset.UtcNow > deadline)
            {
                Assert.True(verify.ExitCode == 0, $"verify still exits {verify.ExitCode} {within.TotalSeconds:0} s after the run:\n{verify.Stdout}{verify.Stderr}");
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The phases in which no rotation is open.</summary>
    public static readonly IReadOnlySet<string> ClosedPhases = new HashSet<string> { "idle", "rolled-back", "completed" };

    /// <summary>A rotation left open (by a failed test) is rolled back, twice if need be, so the next test finds a healthy cluster.</summary>
    public async Task LeaveHealthyAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            if (ClosedPhases.Contains((await StatusAsync()).GetProperty("phase").GetString()!)) return;
            await RollbackAsync();
        }
    }

    /// <summary>The journal as it is on cp-1 (0600 beside the staged CAs), or null when there is none.</summary>
    public JsonElement? Journal()
    {
        var file = Path.Combine(NodesDir, "cp-1") + RotationPaths.Default.Journal;
        return File.Exists(file) ? JsonDocument.Parse(File.ReadAllText(file)).RootElement : null;
    }

    /// <summary>The prober's report between two times, after letting it record at least one round past <paramref name="until"/>.</summary>
    public async Task<JsonElement> ReportAsync(DateTimeOffset since, DateTimeOffset until)
    {
        await new ProbeWatch(Lab).RoundsAsync(until, rounds: 1);
        var run = await RunAsync(["lab", "report", "--dir", Dir, "--since", since.ToString("O", CultureInfo.InvariantCulture), "--until", until.ToString("O", CultureInfo.InvariantCulture), "-o", "json"]);
        Assert.True(run.ExitCode is 0 or 1, $"lab report failed: {run.Stderr}");
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    /// <summary>The edges with trust failures, and the HA endpoint edges with any failure, in a report, for assertion messages.</summary>
    public static string Failures(JsonElement report) =>
        $"{report.GetProperty("trustFailures").GetInt32()} trust and {report.GetProperty("endpointFailures").GetInt32()} endpoint failures: " +
        string.Join("; ", report.GetProperty("edges").EnumerateArray()
            .Where(e => e.GetProperty("trustFailures").GetInt32() > 0 || e.GetProperty("kind").GetString() == "endpoint" && e.GetProperty("availabilityFailures").GetInt32() > 0)
            .Select(e => $"{e.GetProperty("edge").GetString()}: {e.GetProperty("trustFailures").GetInt32()} trust / {e.GetProperty("availabilityFailures").GetInt32()} availability, " +
                $"first {Failure(e, "firstFailure")}, last {Failure(e, "lastFailure")}"));

    private static string Failure(JsonElement edge, string which) =>
        edge.TryGetProperty(which, out var f) && f.ValueKind == JsonValueKind.Object ? $"{f.GetProperty("time").GetString()} \"{f.GetProperty("error").GetString()}\"" : "-";

    /// <summary>
    /// SHA-256 and mode of every file under DIR/nodes — every node's /etc/kubernetes and /var/lib/kubelet, and the
    /// rotation's state directories unless <paramref name="withRotationState"/> is false — but not etcd's live data
    /// (var/lib/etcd), which every API write changes. A symbolic link counts as its target path.
    /// </summary>
    public SortedDictionary<string, string> NodeFileHashes(bool withRotationState) => NodeFileHashes(NodesDir, withRotationState);

    /// <summary>Every file under a lab's DIR/nodes but etcd's data: its SHA-256 and mode, or a link's target.</summary>
    public static SortedDictionary<string, string> NodeFileHashes(string nodesDir, bool withRotationState)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(nodesDir, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(nodesDir, file);
            if (relative.Split('/') is [_, "var", "lib", "etcd", ..]) continue;
            if (!withRotationState && relative.Contains(RotationPaths.StateDirName, StringComparison.Ordinal)) continue;
            var info = new FileInfo(file);
            result[relative] = info.LinkTarget is { } target
                ? "-> " + target
                : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) + " " + File.GetUnixFileMode(file);
        }
        return result;
    }

    /// <summary>The open rotation's new CA fingerprints (CA → sha256) from the status command.</summary>
    public async Task<Dictionary<string, string>> NewFingerprintsAsync()
    {
        var status = await StatusAsync();
        return status.GetProperty("cas").EnumerateArray().ToDictionary(c => c.GetProperty("ca").GetString()!, c => c.GetProperty("newSha256").GetString()!);
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

/// <summary>What a run of the tool gave: the exit code (null when it was killed) and its output.</summary>
public sealed record ToolRun(int? ExitCode, string Stdout, string Stderr)
{
    public void EnsureExit(int expected) =>
        Assert.True(ExitCode == expected, $"exit {ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "killed"} (expected {expected}): {Stderr}\n{Tail(Stdout)}");

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(30));
}
