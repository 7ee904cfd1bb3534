using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>One look at a component's own health endpoint: whether it is healthy, and what was seen, for messages.</summary>
public sealed record HealthAnswer(bool Healthy, string Seen);

/// <summary>
/// Asks one control-plane node's components directly, with that node's own credentials read through its access (so it
/// tests the trust the node has now): the API server's /readyz at --advertise-address:--secure-port with the client
/// certificate and CA data of the node's admin.conf, and the etcd member's /health at its --advertise-client-urls with
/// etcd/healthcheck-client.crt trusting etcd/ca.crt, as kubeadm's etcd probe and `etcdctl endpoint health` do. The
/// server's certificate is checked in full (chain to the given CA data, and the address in its SANs).
/// </summary>
public sealed class ControlPlaneHealthCheck(RotationPaths paths, TimeSpan? requestTimeout = null)
{
    private readonly TimeSpan _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10);

    public async Task<HealthAnswer> ApiServerReadyAsync(RotationNode node, CancellationToken ct)
    {
        var manifestPath = paths.Kubeadm.ApiServerManifest;
        var manifest = await ReadManifestAsync(node, manifestPath, ct).ConfigureAwait(false);
        if (manifest.Problem is { } problem) return new HealthAnswer(false, problem);
        var address = manifest.Manifest!.GetFlag("advertise-address");
        if (string.IsNullOrEmpty(address)) return new HealthAnswer(false, $"{node.Name}:{manifestPath} has no --advertise-address to reach this API server at");
        var port = int.TryParse(manifest.Manifest.GetFlag("secure-port"), out var p) ? p : 6443;
        var url = new UriBuilder("https", address, port, "/readyz").Uri;

        var adminConf = paths.Kubeadm.AdminConf;
        var bytes = await ReadAsync(node, adminConf, ct).ConfigureAwait(false);
        if (bytes.Problem is { } missing) return new HealthAnswer(false, missing);
        Kubeconfig kubeconfig;
        try
        {
            kubeconfig = Kubeconfig.Parse(bytes.Content!, $"{node.Name}:{adminConf}");
        }
        catch (LayoutFormatException e)
        {
            return new HealthAnswer(false, e.Message.TrimEnd('.'));
        }
        var user = kubeconfig.CurrentUser;
        var cluster = kubeconfig.CurrentCluster;
        if (user?.ClientCertificateData is not { } certPem || user.ClientKeyData is not { } keyPem || cluster?.CertificateAuthorityData is not { } caPem)
            return new HealthAnswer(false, $"{node.Name}:{adminConf} does not embed a client certificate, key and CA data for its current context");
        return await GetAsync(url, certPem, keyPem, caPem, $"{node.Name}:{adminConf}", body => (true, null), ct).ConfigureAwait(false);
    }

    public async Task<HealthAnswer> EtcdMemberHealthyAsync(RotationNode node, CancellationToken ct)
    {
        var manifestPath = paths.Kubeadm.EtcdManifest;
        var manifest = await ReadManifestAsync(node, manifestPath, ct).ConfigureAwait(false);
        if (manifest.Problem is { } problem) return new HealthAnswer(false, problem);
        var advertised = (manifest.Manifest!.GetFlag("advertise-client-urls") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri : null)
            .FirstOrDefault(u => u?.Scheme == "https");
        if (advertised is null) return new HealthAnswer(false, $"{node.Name}:{manifestPath} has no https --advertise-client-urls to reach this etcd member at");
        var url = new UriBuilder(advertised) { Path = "/health" }.Uri;

        var certPath = paths.Kubeadm.Pki("etcd/healthcheck-client.crt");
        var keyPath = paths.Kubeadm.Pki("etcd/healthcheck-client.key");
        var caPath = paths.Kubeadm.Pki("etcd/ca.crt");
        var cert = await ReadAsync(node, certPath, ct).ConfigureAwait(false);
        var key = await ReadAsync(node, keyPath, ct).ConfigureAwait(false);
        var ca = await ReadAsync(node, caPath, ct).ConfigureAwait(false);
        if ((cert.Problem ?? key.Problem ?? ca.Problem) is { } missing) return new HealthAnswer(false, missing);
        return await GetAsync(url, cert.Content!, key.Content!, ca.Content!, $"{node.Name}:{certPath}", body =>
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                var health = doc.RootElement.TryGetProperty("health", out var h) ? h.GetString() : null;
                return health == "true" ? (true, null) : (false, $"it answered {body.Trim()}");
            }
            catch (JsonException)
            {
                return (false, $"it answered something that is not etcd's health JSON ({body.Trim()})");
            }
        }, ct).ConfigureAwait(false);
    }

    private async Task<HealthAnswer> GetAsync(Uri url, byte[] certPem, byte[] keyPem, byte[] caPem, string credentials, Func<string, (bool Ok, string? Why)> judge, CancellationToken ct)
    {
        X509Certificate2 client;
        PemBundle roots;
        try
        {
            client = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(certPem), System.Text.Encoding.ASCII.GetString(keyPem));
            roots = PemBundle.ParseNonEmpty(System.Text.Encoding.ASCII.GetString(caPem), credentials + " (CA)");
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException or PkiException)
        {
            return new HealthAnswer(false, $"the credentials of {credentials} cannot be loaded ({e.Message.TrimEnd('.')})");
        }
        using var _ = client;
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck, DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(roots.Certificates.ToArray());
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _requestTimeout,
            PooledConnectionLifetime = TimeSpan.Zero,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = SslStreamCertificateContext.Create(client, null, offline: true),
                CertificateChainPolicy = policy,
            },
        };
        using var http = new HttpClient(handler) { Timeout = _requestTimeout };
        try
        {
            using var response = await http.GetAsync(url, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return new HealthAnswer(false, $"{url} answered {(int)response.StatusCode} ({FirstLines(body)})");
            var (ok, why) = judge(body);
            return new HealthAnswer(ok, ok ? $"{url} answered {(int)response.StatusCode}" : $"{url}: {why}");
        }
        catch (HttpRequestException e)
        {
            return new HealthAnswer(false, $"{url} could not be reached with the credentials of {credentials} ({Innermost(e)})");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new HealthAnswer(false, $"{url} did not answer within {_requestTimeout.TotalSeconds:0} s");
        }
    }

    private static async Task<(StaticPodManifest? Manifest, string? Problem)> ReadManifestAsync(RotationNode node, string path, CancellationToken ct)
    {
        var (content, problem) = await ReadAsync(node, path, ct).ConfigureAwait(false);
        if (problem is not null) return (null, problem);
        try
        {
            return (StaticPodManifest.Parse(content!, $"{node.Name}:{path}"), null);
        }
        catch (LayoutFormatException e)
        {
            return (null, e.Message.TrimEnd('.'));
        }
    }

    private static async Task<(byte[]? Content, string? Problem)> ReadAsync(RotationNode node, string path, CancellationToken ct)
    {
        try
        {
            var bytes = await node.Access.ReadFileAsync(path, ct).ConfigureAwait(false);
            return bytes is null ? (null, $"{node.Name}:{path} is missing") : (bytes, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"{node.Name}:{path} cannot be read ({e.Message.TrimEnd('.')})");
        }
    }

    private static string FirstLines(string body)
    {
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var failed = lines.Where(l => l.StartsWith("[-]", StringComparison.Ordinal)).ToList();
        var shown = failed.Count > 0 ? failed : lines.Take(2).ToList();
        return shown.Count == 0 ? "empty body" : string.Join("; ", shown);
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.TrimEnd('.');
    }
}
