using System.Globalization;
using System.Text.Json;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.ApiServer;

namespace KubeCaRotate.Lab.Tests.Prober;

/// <summary>Runs `kube-ca-rotate lab report` as a user would, and reads probe.jsonl independently of the report's code.</summary>
public static class ReportRun
{
    public static async Task<JsonElement> JsonAsync(string dir, DateTimeOffset since, DateTimeOffset until)
    {
        var exe = LabExecutable.Command();
        var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "lab", "report", "--dir", dir,
            "--since", since.ToString("O", CultureInfo.InvariantCulture), "--until", until.ToString("O", CultureInfo.InvariantCulture), "-o", "json"]);
        Assert.True(run.ExitCode is 0 or 1, $"lab report failed ({run.ExitCode}): {run.Stderr}");
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        var clean = report.GetProperty("trustFailures").GetInt32() == 0 && report.GetProperty("endpointFailures").GetInt32() == 0;
        Assert.Equal(clean ? 0 : 1, run.ExitCode);
        return report;
    }

    /// <summary>The complete lines of DIR/probe.jsonl whose time is in [since, until), parsed as plain JSON.</summary>
    public static List<JsonElement> RawLines(string dir, DateTimeOffset since, DateTimeOffset until) =>
        File.ReadAllLines(Path.Combine(dir, "probe.jsonl"))
            .Where(l => l.EndsWith('}'))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("time").GetDateTimeOffset() >= since && l.GetProperty("time").GetDateTimeOffset() < until)
            .ToList();
}
