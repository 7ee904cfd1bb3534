using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Kubelet;

/// <summary>One small lab (1 control plane, 1 worker, 2 namespaces) for the kubelet tests; always brought down.</summary>
public sealed class KubeletLabFixture : IAsyncLifetime
{
    public string Dir { get; } = TestLab.NewDir("kcr-kubelet-");

    public LabTopology Lab { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Lab = await TestLab.UpAsync(new LabUpOptions(Dir, 1, 1, 2));
        Admin = LabClients.FromKubeconfig(Lab.AdminKubeconfig, TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        await TestLab.DownAndRemoveAsync(Dir);
    }

    public string NodeFile(string node, string nodePath) => Path.Join(Lab.NodeRoot(Lab.Node(node)), nodePath);

    /// <summary>A request as the cluster admin; returns the status code and the JSON body.</summary>
    public async Task<(int Status, JsonObject? Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, Lab.EndpointUrl + path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType);
        using var response = await Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) as JsonObject : null);
    }

    /// <summary>Waits until the (single) API server answers /readyz through the endpoint, e.g. after a test restarted it.</summary>
    public Task WaitApiReadyAsync() => EventuallyAsync(async () =>
    {
        using var response = await Admin.GetAsync(Lab.EndpointUrl + "/readyz");
        return response.IsSuccessStatusCode ? "ready" : null;
    }, "the API server to be ready");

    public async Task<JsonObject> GetAsync(string path)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, path);
        Assert.True(status == 200, $"GET {path} answered {status}: {body}");
        return body!;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (API unavailability while polling is waited out); fails with <paramref name="what"/> after a generous timeout.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> condition, string what, int seconds = 60) where T : class
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (await condition() is { } value) return value;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // the API server is restarting
            }
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(250);
        }
    }

    /// <summary>The cluster CA (certificate with key) from the control-plane node's pki.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 ClusterCa() =>
        System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(NodeFile("cp-1", "/etc/kubernetes/pki/ca.crt"), NodeFile("cp-1", "/etc/kubernetes/pki/ca.key"));

    public PemBundle ClusterCaBundle() => PemBundle.ParseNonEmpty(File.ReadAllText(NodeFile("cp-1", "/etc/kubernetes/pki/ca.crt")), "ca.crt");
}
