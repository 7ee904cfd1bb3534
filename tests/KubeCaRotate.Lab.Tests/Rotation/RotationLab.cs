using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Tests.Prober;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>One 3 + 2 lab for the rotation tests, and the operator's commands run as the real executable.</summary>
public sealed class RotationLab : IAsyncLifetime
{
    public LabTopology Lab { get; private set; } = null!;

    public string Dir => Lab.Dir;

    public string Inventory => Path.Combine(Dir, "inventory.yaml");

    public async Task InitializeAsync() =>
        Lab = await TestLab.UpAsync(new LabUpOptions(TestLab.NewDir("kcr-rot-"), ControlPlanes: 3, Workers: 2, Namespaces: 2) { ReadyTimeout = TimeSpan.FromMinutes(3) });

    public Task DisposeAsync() => TestLab.DownAndRemoveAsync(Dir);

    /// <summary>Runs `kube-ca-rotate ARGS` to its end (or until <paramref name="killAfter"/>, then SIGKILL); output is kept for messages.</summary>
    public async Task<ToolRun> RunAsync(IEnumerable<string> args, TimeSpan? killAfter = null, TimeSpan? timeout = null)
    {
        var exe = LabExecutable.Command();
        var info = new ProcessStartInfo(exe[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in exe.Skip(1).Concat(args)) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = killAfter ?? timeout ?? TimeSpan.FromMinutes(10);
        using var cts = new CancellationTokenSource(limit);
        var killed = false;
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: false); // SIGKILL of the tool alone, as `kill -9` would
            await process.WaitForExitAsync();
            killed = true;
            if (killAfter is null) throw new TimeoutException($"kube-ca-rotate {string.Join(' ', args)} did not finish within {limit}: {await stderr}");
        }
        return new ToolRun(killed ? null : process.ExitCode, await stdout, await stderr);
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

    /// <summary>The prober's report between two times, after letting it record at least one round past <paramref name="until"/>.</summary>
    public async Task<JsonElement> ReportAsync(DateTimeOffset since, DateTimeOffset until)
    {
        await new ProbeWatch(Lab).RoundsAsync(until, rounds: 1);
        var exe = LabExecutable.Command();
        var run = await RunAsync(["lab", "report", "--dir", Dir, "--since", since.ToString("O", CultureInfo.InvariantCulture), "--until", until.ToString("O", CultureInfo.InvariantCulture), "-o", "json"]);
        Assert.True(run.ExitCode is 0 or 1, $"lab report failed: {run.Stderr}");
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    /// <summary>The edges with trust failures (and the HA endpoint failures) in a report, for assertion messages.</summary>
    public static string Failures(JsonElement report) =>
        string.Join("; ", report.GetProperty("edges").EnumerateArray()
            .Where(e => e.GetProperty("trustFailures").GetInt32() > 0 || e.TryGetProperty("endpointFailures", out var f) && f.GetInt32() > 0)
            .Select(e => $"{e.GetProperty("edge").GetString()}: {(e.TryGetProperty("lastFailure", out var l) && l.ValueKind == JsonValueKind.Object ? l.GetProperty("error").GetString() : "")}"));

    /// <summary>SHA-256 and mode of every node file under /etc/kubernetes and /var/lib/kubelet (not etcd's data), the rotation's own state directory left out.</summary>
    public SortedDictionary<string, string> NodeFileHashes()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var nodes = Path.Combine(Dir, "nodes");
        var files = Directory.EnumerateDirectories(nodes).SelectMany(node => new[] { Path.Combine(node, "etc", "kubernetes"), Path.Combine(node, "var", "lib", "kubelet") })
            .Where(Directory.Exists).SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories));
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(nodes, file);
            if (relative.Contains(RotationPaths.StateDirName, StringComparison.Ordinal) || Path.GetFileName(file).StartsWith('.')) continue;
            if (new FileInfo(file).LinkTarget is not null) continue;
            result[relative] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) + " " + File.GetUnixFileMode(file);
        }
        return result;
    }

    /// <summary>The open rotation's journal fingerprints (CA → new sha256) from the status command.</summary>
    public async Task<Dictionary<string, string>> NewFingerprintsAsync()
    {
        var status = await StatusAsync();
        return status.GetProperty("cas").EnumerateArray().ToDictionary(c => c.GetProperty("ca").GetString()!, c => c.GetProperty("newSha256").GetString()!);
    }
}

/// <summary>What a run of the tool gave: the exit code (null when it was killed) and its output.</summary>
public sealed record ToolRun(int? ExitCode, string Stdout, string Stderr)
{
    public void EnsureExit(int expected) =>
        Assert.True(ExitCode == expected, $"exit {ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "killed"} (expected {expected}): {Stderr}\n{Tail(Stdout)}");

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(30));
}
