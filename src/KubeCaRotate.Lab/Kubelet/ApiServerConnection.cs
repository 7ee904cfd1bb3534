using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>The answer of one API request: the HTTP status and the JSON body, when there is one.</summary>
public sealed record ApiReply(HttpStatusCode Status, JsonObject? Body)
{
    public bool Ok => (int)Status is >= 200 and < 300;

    public string Describe() => $"{(int)Status} {Body?["message"]?.GetValue<string>() ?? Status.ToString()}";
}

/// <summary>
/// The kubelet's client of the API server: trust fixed at start (kubelet.conf's CA data), identity replaceable. When
/// the certificate manager swaps in a new client certificate a new HttpClient is built with it, as client-go's
/// rotating transport does, and later requests use it; requests in flight finish on the old one.
/// </summary>
public sealed class ApiServerConnection(string server, IReadOnlyList<X509Certificate2> roots, X509Certificate2 identity) : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly Uri _server = new(server.TrimEnd('/') + "/");
    private volatile Held _held = new(identity, LabClients.Create(roots, identity, RequestTimeout));

    private sealed record Held(X509Certificate2 Identity, HttpClient Client);

    public string Server => _server.ToString().TrimEnd('/');

    public IReadOnlyList<X509Certificate2> Roots { get; } = roots;

    /// <summary>The client certificate requests are made with now.</summary>
    public X509Certificate2 Identity => _held.Identity;

    /// <summary>Switches to a new client certificate (with its private key) for every later request.</summary>
    public void Use(X509Certificate2 newIdentity)
    {
        var old = _held;
        _held = new Held(newIdentity, LabClients.Create(Roots, newIdentity, RequestTimeout));
        // Let requests still running on the old client finish before it goes.
        _ = Task.Delay(RequestTimeout + TimeSpan.FromSeconds(1)).ContinueWith(_ => old.Client.Dispose(), TaskScheduler.Default);
    }

    public Task<ApiReply> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, null, ct);

    public Task<ApiReply> PostAsync(string path, JsonObject body, CancellationToken ct) => SendAsync(HttpMethod.Post, path, body, "application/json", ct);

    public Task<ApiReply> PutAsync(string path, JsonObject body, CancellationToken ct) => SendAsync(HttpMethod.Put, path, body, "application/json", ct);

    public Task<ApiReply> MergePatchAsync(string path, JsonObject body, CancellationToken ct) => SendAsync(HttpMethod.Patch, path, body, "application/merge-patch+json", ct);

    public Task<ApiReply> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, null, ct);

    /// <summary>
    /// Deletes a pod the way the kubelet does once its containers have stopped: grace period 0 and the pod's uid as a
    /// precondition, so a new pod of the same name (a StatefulSet's) is never deleted by mistake.
    /// </summary>
    public Task<ApiReply> DeleteStoppedPodAsync(string ns, string name, string uid, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, $"api/v1/namespaces/{ns}/pods/{name}", new JsonObject
        {
            ["kind"] = "DeleteOptions",
            ["apiVersion"] = "v1",
            ["gracePeriodSeconds"] = 0,
            ["preconditions"] = new JsonObject { ["uid"] = uid },
        }, "application/json", ct);

    /// <summary>Sends one request; transport failures (refused, TLS rejected, timed out) throw <see cref="HttpRequestException"/> or <see cref="TaskCanceledException"/>.</summary>
    public async Task<ApiReply> SendAsync(HttpMethod method, string path, JsonObject? body, string? contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(_server, path.TrimStart('/')));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.ParseAdd("kubelet/v1.33.0 (linux/amd64) kube-ca-rotate-lab");
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType ?? "application/json");
        using var response = await _held.Client.SendAsync(request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        JsonObject? json = null;
        if (text.StartsWith('{'))
        {
            try
            {
                json = JsonNode.Parse(text) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        return new ApiReply(response.StatusCode, json);
    }

    public void Dispose() => _held.Client.Dispose();
}
