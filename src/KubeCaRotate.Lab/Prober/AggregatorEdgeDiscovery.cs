using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// Finds the API server → aggregated API server edges through the API, as kube-aggregator does: every APIService with a
/// service, the Service's Endpoints (the first address, as the lab's proxy picks it), and from each running API server
/// the connection it would make: its --proxy-client-cert-file/--proxy-client-key-file as the files are now (the real one
/// reloads them), the APIService's caBundle checked against SERVICE.NAMESPACE.svc (or no check with
/// insecureSkipTLSVerify), and a proxied user. When the API cannot be read the edges found last are kept, so an outage
/// of the API does not hide the edges it does not involve. The API is read with the lab's admin kubeconfig as it is now:
/// a rotation rewrites it (new CA, new client certificate), and a client kept from before would fail from then on and
/// leave the prober probing an aggregated API server's address that a rollout has since replaced.
/// </summary>
public sealed class AggregatorEdgeDiscovery(LabTopology lab, EdgeDiscovery files) : IDisposable
{
    private const string ApiServer = "kube-apiserver";
    public const string ProxiedUser = "system:lab-prober";
    private HttpClient? _admin;
    private DateTime _adminWritten;
    private IReadOnlyList<TrustEdge> _last = [];

    public async Task<IReadOnlyList<TrustEdge>> DiscoverAsync(CancellationToken ct)
    {
        try
        {
            var written = File.GetLastWriteTimeUtc(lab.AdminKubeconfig);
            if (_admin is null || written != _adminWritten)
            {
                _admin?.Dispose();
                _admin = LabClients.FromKubeconfig(lab.AdminKubeconfig, TimeSpan.FromSeconds(5));
                _adminWritten = written;
            }
            var edges = new List<TrustEdge>();
            foreach (var apiService in await ItemsAsync("/apis/apiregistration.k8s.io/v1/apiservices", ct).ConfigureAwait(false))
            {
                var spec = apiService["spec"];
                var ns = spec?["service"]?["namespace"]?.GetValue<string>();
                var name = spec?["service"]?["name"]?.GetValue<string>();
                var group = spec?["group"]?.GetValue<string>();
                var version = spec?["version"]?.GetValue<string>();
                if (ns is null || name is null || group is null || version is null) continue;
                var target = await FirstEndpointAsync(ns, name, ct).ConfigureAwait(false);
                if (target is null) continue;
                var insecure = spec?["insecureSkipTLSVerify"]?.GetValue<bool>() == true;
                var caBundle = spec?["caBundle"]?.GetValue<string>() is { Length: > 0 } b64 ? Encoding.ASCII.GetString(Convert.FromBase64String(b64)) : null;
                if (!insecure && caBundle is null) continue; // the real proxy would have no trust either; nothing to probe
                var serverName = $"{name}.{ns}.svc";
                foreach (var node in lab.ControlPlanes)
                {
                    var manifest = files.Manifest(node, ApiServer);
                    if (manifest is null || !Directory.Exists(LoadedFiles.Dir(lab, node.Name, ApiServer))) continue;
                    var cert = files.Current(node, manifest.GetFlag("proxy-client-cert-file"));
                    var key = files.Current(node, manifest.GetFlag("proxy-client-key-file"));
                    if (cert is null || key is null) continue;
                    var credentials = new EdgeCredentials
                    {
                        ClientCertificateFile = cert, ClientKeyFile = key, VerifyServer = !insecure, TrustBundlePem = insecure ? null : caBundle,
                        ServerName = serverName, ProxiedUser = ProxiedUser,
                    };
                    edges.Add(new TrustEdge(EdgeKind.Aggregator, $"{node.Name}/{ApiServer}", serverName, new Uri($"https://{target}/apis/{group}/{version}"), credentials));
                }
            }
            _last = edges;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException or FormatException or IOException
            or System.Security.Cryptography.CryptographicException or KubeCaRotate.Layout.LayoutFormatException or KubeCaRotate.Pki.PkiException)
        {
            // keep what was found last; the next look builds its client again (the kubeconfig may be mid-rewrite now)
            _admin?.Dispose();
            _admin = null;
        }
        return _last;
    }

    private async Task<string?> FirstEndpointAsync(string ns, string name, CancellationToken ct)
    {
        var endpoints = await GetAsync($"/api/v1/namespaces/{ns}/endpoints/{name}", ct).ConfigureAwait(false);
        foreach (var subset in (endpoints?["subsets"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var ip = (subset["addresses"] as JsonArray)?.FirstOrDefault()?["ip"]?.GetValue<string>();
            var port = (subset["ports"] as JsonArray)?.FirstOrDefault()?["port"]?.GetValue<int>();
            if (ip is not null && port is not null) return ip.Contains(':') ? $"[{ip}]:{port}" : $"{ip}:{port}";
        }
        return null;
    }

    private async Task<IEnumerable<JsonObject>> ItemsAsync(string path, CancellationToken ct) =>
        ((await GetAsync(path, ct).ConfigureAwait(false))?["items"] as JsonArray ?? []).OfType<JsonObject>();

    private async Task<JsonObject?> GetAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, lab.EndpointUrl + path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _admin!.SendAsync(request, ct).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path} was answered {(int)response.StatusCode}.");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)) as JsonObject;
    }

    public void Dispose() => _admin?.Dispose();
}
