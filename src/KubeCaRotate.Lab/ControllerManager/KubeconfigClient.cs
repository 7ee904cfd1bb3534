using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// A control-plane component's client of the API server, built once from its kubeconfig as client-go builds it: the
/// server, the CA data as the only trust, the client certificate (or a bearer token). Nothing is re-read later, so a
/// changed kubeconfig takes effect only when the component restarts, as with the real ones. JSON in, JSON out.
/// </summary>
public sealed class KubeconfigClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly HttpClient _http;
    private readonly string? _token;

    public KubeconfigClient(string server, IReadOnlyList<X509Certificate2> roots, X509Certificate2? identity, string? bearerToken = null)
    {
        Server = new Uri(server.TrimEnd('/') + "/");
        Roots = roots;
        User = identity is null ? null : CertificateFacts.CommonName(identity);
        _token = bearerToken;
        _http = LabClients.Create(roots, identity, RequestTimeout);
    }

    public Uri Server { get; }

    /// <summary>The CA certificates of the kubeconfig: what this component trusts, and what the controller-manager publishes when --root-ca-file is empty.</summary>
    public IReadOnlyList<X509Certificate2> Roots { get; }

    public string? User { get; }

    /// <summary>
    /// Reads a kubeconfig (node path already mapped to a real file): its current context's server, CA data and client
    /// certificate (data or file). Throws one sentence naming the file when something is missing.
    /// </summary>
    public static KubeconfigClient FromFile(string path, Func<string, string> mapPath)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The kubeconfig {path} cannot be read ({e.Message}); check --kubeconfig.", e);
        }
        var config = Kubeconfig.Parse(bytes, path);
        var cluster = config.CurrentCluster ?? throw new InvalidOperationException($"The kubeconfig {path} has no current context with a cluster; fix current-context.");
        var user = config.CurrentUser ?? throw new InvalidOperationException($"The kubeconfig {path} has no user in its current context; fix the context.");
        var server = cluster.Server ?? throw new InvalidOperationException($"The kubeconfig {path} has no server for cluster {cluster.Name}.");
        var caPem = cluster.CertificateAuthorityData is { } data ? Encoding.ASCII.GetString(data)
            : cluster.CertificateAuthority is { } caPath ? File.ReadAllText(mapPath(caPath))
            : throw new InvalidOperationException($"The kubeconfig {path} has no certificate-authority(-data) for cluster {cluster.Name}; the lab does not connect without trust.");
        var roots = PemBundle.ParseNonEmpty(caPem, $"{path} (certificate-authority-data)").Certificates;
        var certPem = user.ClientCertificateData is { } c ? Encoding.ASCII.GetString(c)
            : user.ClientCertificate is { } cp ? File.ReadAllText(mapPath(cp)) : null;
        var keyPem = user.ClientKeyData is { } k ? Encoding.ASCII.GetString(k)
            : user.ClientKey is { } kp ? File.ReadAllText(mapPath(kp)) : null;
        if (certPem is null || keyPem is null)
            throw new InvalidOperationException($"The kubeconfig {path} has no client certificate and key for user {user.Name}.");
        return new KubeconfigClient(server, roots, X509Certificate2.CreateFromPem(certPem, keyPem));
    }

    public async Task<JsonObject?> GetAsync(string path, CancellationToken ct)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, path, null, null, ct).ConfigureAwait(false);
        }
        catch (ApiCallException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>The items of a list (all pages).</summary>
    public async Task<List<JsonObject>> ListAsync(string path, CancellationToken ct)
    {
        var items = new List<JsonObject>();
        string? next = null;
        do
        {
            var separator = path.Contains('?') ? '&' : '?';
            var page = await SendAsync(HttpMethod.Get, next is null ? $"{path}{separator}limit=500" : $"{path}{separator}limit=500&continue={Uri.EscapeDataString(next)}", null, null, ct).ConfigureAwait(false)
                ?? throw new ApiCallException(null, $"The API server returned an empty list for {path}.");
            items.AddRange((page["items"] as JsonArray ?? []).OfType<JsonObject>());
            next = page["metadata"]?["continue"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(next));
        return items;
    }

    public Task<JsonObject?> CreateAsync(string collectionPath, JsonObject body, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, collectionPath, body, "application/json", ct);

    public Task<JsonObject?> ReplaceAsync(string path, JsonObject body, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, path, body, "application/json", ct);

    public Task<JsonObject?> MergePatchAsync(string path, JsonObject patch, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, path, patch, "application/merge-patch+json", ct);

    public async Task DeleteAsync(string path, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, path, null, null, ct).ConfigureAwait(false);
        }
        catch (ApiCallException e) when (e.IsNotFound)
        {
            // already gone
        }
    }

    private async Task<JsonObject?> SendAsync(HttpMethod method, string path, JsonObject? body, string? contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(Server, path.TrimStart('/')));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType!);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new ApiCallException(null, $"{method} {path} on {Server} failed: {e.Message}", e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            JsonObject? json = null;
            try
            {
                json = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
            }
            catch (System.Text.Json.JsonException)
            {
            }
            if (!response.IsSuccessStatusCode)
                throw new ApiCallException(response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {json?["message"]?.GetValue<string>() ?? text}");
            return json;
        }
    }

    public void Dispose() => _http.Dispose();
}
