using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Tls;
using KubeCaRotate.Pki;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// kube-aggregator's proxy: a request for /apis/GROUP/VERSION/... whose group the server does not serve itself goes to
/// the APIService VERSION.GROUP's service, reached through the Service's Endpoints (the first ready address and port).
/// The connection presents --proxy-client-cert-file/--proxy-client-key-file (re-read when either file changes, as the
/// real "aggregator-proxy-cert" loader does), trusts the APIService's caBundle only (and checks the name
/// SERVICE.NAMESPACE.svc) unless insecureSkipTLSVerify, and passes the authenticated user in X-Remote-User and
/// X-Remote-Group, never the caller's own credentials.
/// </summary>
internal sealed class AggregatorProxy(ApiServerOptions options, ObjectRegistry registry, TimeProvider time)
{
    private static readonly ApiResource ApiServices = ApiResourceCatalog.Find("apiregistration.k8s.io", "v1", "apiservices")!;
    private static readonly ApiResource Endpoints = ApiResourceCatalog.Find("", "v1", "endpoints")!;
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host", "Authorization", "Content-Length",
    };
    private readonly Lock _gate = new();
    private (FileStamp Cert, FileStamp Key, X509Certificate2? Identity) _identity;
    private readonly Dictionary<string, HttpClient> _clients = [];

    /// <summary>True when some group is not one the server serves itself: only then is an APIService looked up.</summary>
    public static bool IsAggregated(string group) => !ApiResourceCatalog.Groups.Contains(group) && group.Length > 0;

    public async Task ProxyAsync(HttpContext context, string group, string? version, AuthenticatedUser user)
    {
        var ct = context.RequestAborted;
        var apiService = await FindApiServiceAsync(group, version, ct) ?? throw ApiStatusException.NotFoundPath();
        var spec = apiService["spec"] as JsonObject ?? new JsonObject();
        var service = spec["service"] as JsonObject ?? throw new ApiStatusException(503, "ServiceUnavailable", $"the APIService {KubeJson.Name(apiService)} has no service");
        var svcNs = KubeJson.Str(service["namespace"]) ?? "default";
        var svcName = KubeJson.Str(service["name"]) ?? "";
        var target = await ResolveAsync(svcNs, svcName, ct);
        var insecure = spec["insecureSkipTLSVerify"]?.GetValue<bool>() == true;
        var caBundle = KubeJson.Str(spec["caBundle"]) is { Length: > 0 } b ? Encoding.ASCII.GetString(Convert.FromBase64String(b)) : "";
        var client = Client(target, insecure, caBundle, $"{svcName}.{svcNs}.svc");

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), $"https://{target}{context.Request.Path}{context.Request.QueryString}");
        foreach (var (name, values) in context.Request.Headers)
        {
            if (HopHeaders.Contains(name) || name.StartsWith("X-Remote-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                continue;
            request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
        }
        request.Headers.TryAddWithoutValidation(options.RequestHeaderUsernameHeaders.FirstOrDefault() ?? "X-Remote-User", user.Name);
        foreach (var g in user.Groups)
            request.Headers.TryAddWithoutValidation(options.RequestHeaderGroupHeaders.FirstOrDefault() ?? "X-Remote-Group", g);
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, ct);
            request.Content = new ByteArrayContent(body.ToArray());
            if (context.Request.ContentType is { } contentType)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ApiStatusException(503, "ServiceUnavailable", $"error trying to reach service: {e.InnerException?.Message ?? e.Message}");
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
                if (!HopHeaders.Contains(name))
                    context.Response.Headers[name] = values.ToArray();
            await response.Content.CopyToAsync(context.Response.Body, ct);
        }
    }

    private async Task<JsonObject?> FindApiServiceAsync(string group, string? version, CancellationToken ct)
    {
        if (version is not null)
        {
            try
            {
                return (await registry.GetAsync(ApiServices, null, $"{version}.{group}", ct)).Object;
            }
            catch (ApiStatusException e) when (e.Code == 404)
            {
                return null;
            }
        }
        var (items, _) = await registry.ListAsync(ApiServices, null, ct);
        return items.Select(i => i.Object).FirstOrDefault(o => KubeJson.Str(o["spec"]?["group"]) == group);
    }

    private async Task<string> ResolveAsync(string ns, string name, CancellationToken ct)
    {
        JsonObject endpoints;
        try
        {
            endpoints = (await registry.GetAsync(Endpoints, ns, name, ct)).Object;
        }
        catch (ApiStatusException e) when (e.Code == 404)
        {
            throw new ApiStatusException(503, "ServiceUnavailable", $"service {ns}/{name} has no endpoints");
        }
        foreach (var subset in (endpoints["subsets"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var ip = KubeJson.Str((subset["addresses"] as JsonArray ?? []).FirstOrDefault()?["ip"]);
            var port = (subset["ports"] as JsonArray ?? []).FirstOrDefault()?["port"]?.GetValue<int>();
            if (ip is not null && port is not null)
                return IPAddress.TryParse(ip, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";
        }
        throw new ApiStatusException(503, "ServiceUnavailable", $"service {ns}/{name} has no ready endpoints");
    }

    /// <summary>The client for this target and trust, with the current proxy client certificate; rebuilt when the files change.</summary>
    private HttpClient Client(string target, bool insecure, string caBundle, string serverName)
    {
        lock (_gate)
        {
            var identity = Identity();
            var key = $"{target}|{insecure}|{caBundle}|{identity?.Thumbprint}";
            if (_clients.TryGetValue(key, out var existing))
                return existing;
            var roots = caBundle.Length > 0 ? PemBundle.Parse(caBundle, "APIService caBundle").Certificates : [];
            var handler = new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromSeconds(30),
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = identity is null ? null : new X509CertificateCollection { identity },
                    RemoteCertificateValidationCallback = (_, cert, chain, _) =>
                    {
                        if (insecure)
                            return true;
                        if (cert is null)
                            return false;
                        var leaf = cert as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
                        return CertificateFacts.AltNames(leaf).DnsNames.Contains(serverName) && CertificateFacts.BuildChain(leaf, roots, time.GetUtcNow(), SentIntermediates.Of(leaf, chain)).Ok;
                    },
                },
            };
            var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
            foreach (var stale in _clients.Where(kv => kv.Key.StartsWith(target + "|", StringComparison.Ordinal)).Select(kv => kv.Key).ToList())
                _clients.Remove(stale); // left to finish in-flight requests; the pool closes idle connections
            _clients[key] = client;
            return client;
        }
    }

    private X509Certificate2? Identity()
    {
        if (options.ProxyClientCertFile is null || options.ProxyClientKeyFile is null)
            return null;
        var cert = FileStamp.Of(options.ProxyClientCertFile);
        var key = FileStamp.Of(options.ProxyClientKeyFile);
        if (_identity.Identity is not null && _identity.Cert == cert && _identity.Key == key)
            return _identity.Identity;
        try
        {
            using var loaded = X509Certificate2.CreateFromPemFile(options.ProxyClientCertFile, options.ProxyClientKeyFile);
            // export/import so that SslStream can use the key on Linux
            var usable = X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null);
            _identity = (cert, key, usable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            // a half-written pair keeps the last good identity, as the dynamic loader does
        }
        return _identity.Identity;
    }
}
