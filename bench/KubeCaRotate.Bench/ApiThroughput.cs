using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Bench;

/// <summary>
/// Requests per second of the lab's API server stand-in (backed by real etcd over mTLS) for GET of a Secret and for a
/// merge PATCH of a ConfigMap, side by side, directly against one API server and through the HA endpoint.
/// </summary>
internal static class ApiThroughput
{
    public static async Task<int> RunAsync(TimeSpan duration, int concurrency)
    {
        var dir = Path.Combine(Path.GetTempPath(), "kcr-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var controller = new LabController(TextWriter.Null, TimeProvider.System);
        var up = Stopwatch.StartNew();
        var lab = await controller.UpAsync(new LabUpOptions(dir, 3, 0, 1), CancellationToken.None);
        Console.WriteLine($"lab up (3 control planes): {up.Elapsed.TotalSeconds:0.0} s");
        try
        {
            using var client = LabClients.FromKubeconfig(lab.AdminKubeconfig, TimeSpan.FromSeconds(10));
            var create = new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bench"},"data":{"n":"0"}}""", Encoding.UTF8, "application/json");
            (await client.PostAsync(lab.EndpointUrl + "/api/v1/namespaces/lab-1/configmaps", create)).EnsureSuccessStatusCode();

            Console.WriteLine($"{"operation",-8} {"target",-10} {"requests",9} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
            foreach (var (name, url) in new[] { ("direct", lab.ControlPlanes.First().ApiServerUrl), ("endpoint", lab.EndpointUrl) })
            {
                Print("GET", name, await MeasureAsync(duration, concurrency, async i =>
                    await client.GetAsync(url + "/api/v1/namespaces/lab-1/secrets/app-token")));
                Print("PATCH", name, await MeasureAsync(duration, concurrency, async i =>
                {
                    var body = new StringContent("{\"data\":{\"n\":\"" + i + "\"}}", Encoding.UTF8);
                    body.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
                    return await client.PatchAsync(url + "/api/v1/namespaces/lab-1/configmaps/bench", body);
                }));
            }
        }
        finally
        {
            await controller.DownAsync(dir, CancellationToken.None);
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private sealed record Result(int Requests, int Errors, double Seconds, List<double> LatenciesMs);

    private static async Task<Result> MeasureAsync(TimeSpan duration, int concurrency, Func<int, Task<HttpResponseMessage>> call)
    {
        var latencies = new List<double>();
        var errors = 0;
        var counter = 0;
        var total = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var mine = new List<double>();
            while (total.Elapsed < duration)
            {
                var sw = Stopwatch.StartNew();
                using var response = await call(Interlocked.Increment(ref counter));
                await response.Content.ReadAsByteArrayAsync();
                mine.Add(sw.Elapsed.TotalMilliseconds);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            }
            lock (latencies) latencies.AddRange(mine);
        }).ToArray();
        await Task.WhenAll(workers);
        return new Result(latencies.Count, errors, total.Elapsed.TotalSeconds, latencies);
    }

    private static void Print(string operation, string target, Result r)
    {
        r.LatenciesMs.Sort();
        double P(double q) => r.LatenciesMs.Count == 0 ? 0 : r.LatenciesMs[Math.Min(r.LatenciesMs.Count - 1, (int)(q * r.LatenciesMs.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{operation,-8} {target,-10} {r.Requests,9} {r.Requests / r.Seconds,9:0} {P(0.5),8:0.0} {P(0.99),8:0.0} {r.Errors,7}"));
    }
}
