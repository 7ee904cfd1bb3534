using System.Diagnostics;

namespace KubeCaRotate.Lab.Tests.Etcd;

/// <summary>The real etcdctl (v3 API) against the test cluster, with the client certificate.</summary>
internal static class Etcdctl
{
    public static async Task<string> RunAsync(EtcdClusterFixture cluster, IReadOnlyList<string> command, string? endpoints = null)
    {
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["ETCDCTL_API"] = "3";
        foreach (var a in new[] { $"--endpoints={endpoints ?? cluster.Servers}", $"--cacert={cluster.ClientCaFile}", $"--cert={cluster.ClientCertFile}", $"--key={cluster.ClientKeyFile}" })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var a in command) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"etcdctl {string.Join(' ', command)} failed ({process.ExitCode}): {output}");
        return output;
    }
}
