using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Control;

/// <summary>Waits until every etcd member reports healthy and every API server, and the HA endpoint, answer /readyz.</summary>
public sealed class LabReadiness(LabTopology lab, TimeProvider time)
{
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var admin = LabClients.FromKubeconfig(lab.AdminKubeconfig, TimeSpan.FromSeconds(3));
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var waiting = await NotReadyAsync(plain, admin, ct).ConfigureAwait(false);
            if (waiting.Count == 0) return;
            if (time.GetUtcNow() >= deadline)
            {
                var first = waiting[0];
                var logFile = first.Node == "-" ? Path.Combine(lab.LogDir, "endpoint.log") : Path.Combine(lab.LogDir, first.Node, first.Component + ".log");
                var tail = File.Exists(logFile) ? string.Join('\n', File.ReadLines(logFile).TakeLast(15)) : "(no log)";
                throw new LabException($"The lab was not ready within {timeout.TotalSeconds:0} s: {string.Join(", ", waiting.Select(w => $"{w.Component} on {w.Node}"))} not ready. End of {logFile}:\n{tail}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct).ConfigureAwait(false);
        }
    }

    private async Task<List<(string Node, string Component)>> NotReadyAsync(HttpClient plain, HttpClient admin, CancellationToken ct)
    {
        var waiting = new List<(string, string)>();
        foreach (var node in lab.ControlPlanes)
        {
            if (!await OkAsync(plain, $"http://127.0.0.1:{node.EtcdMetricsPort}/health", ct).ConfigureAwait(false)) waiting.Add((node.Name, "etcd"));
            if (!await OkAsync(admin, node.ApiServerUrl + "/readyz", ct).ConfigureAwait(false)) waiting.Add((node.Name, "kube-apiserver"));
        }
        if (waiting.Count == 0 && !await OkAsync(admin, lab.EndpointUrl + "/readyz", ct).ConfigureAwait(false)) waiting.Add(("-", "endpoint"));
        return waiting;
    }

    private static async Task<bool> OkAsync(HttpClient client, string url, CancellationToken ct)
    {
        try
        {
            using var response = await client.GetAsync(url, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return false;
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return !body.Contains("\"health\":\"false\"", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
