using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>Which of the API server's client trust bundles a client certificate chains to.</summary>
[Flags]
internal enum ClientCertificateTrust
{
    None = 0,
    ClientCa = 1,
    RequestHeaderCa = 2,
}

/// <summary>
/// Verifies client certificates the way kube-apiserver's x509 authenticator does: a chain to one of the
/// certificates in --client-ca-file (or --requestheader-client-ca-file) as custom trust roots only, no system
/// roots, the client-auth extended key usage, at the current time. Results are cached per certificate and
/// bundle version, so a changed bundle is honoured at once.
/// </summary>
internal sealed class ClientCertificateVerifier(CaBundleFile? clientCa, CaBundleFile? requestHeaderCa, TimeProvider time)
{
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private readonly ConcurrentDictionary<string, (int, int, DateTimeOffset, ClientCertificateTrust)> _cache = new();

    public CaBundleFile? ClientCa { get; } = clientCa;
    public CaBundleFile? RequestHeaderCa { get; } = requestHeaderCa;

    /// <summary>The certificates to advertise in the TLS CertificateRequest, as Go's ClientCAs pool does.</summary>
    public X509Certificate2Collection AcceptableIssuers()
    {
        var all = new X509Certificate2Collection();
        foreach (var c in ClientCa?.Current.Certificates ?? [])
            all.Add(c);
        foreach (var c in RequestHeaderCa?.Current.Certificates ?? [])
            all.Add(c);
        return all;
    }

    public ClientCertificateTrust Verify(X509Certificate2 certificate, IEnumerable<X509Certificate2>? intermediates = null)
    {
        var client = ClientCa?.Current;
        var front = RequestHeaderCa?.Current;
        var now = time.GetUtcNow();
        var key = certificate.Thumbprint;
        if (intermediates is null && _cache.TryGetValue(key, out var hit)
            && hit.Item1 == (client?.Version ?? 0) && hit.Item2 == (front?.Version ?? 0) && now - hit.Item3 < TimeSpan.FromMinutes(1))
            return hit.Item4;
        var result = ClientCertificateTrust.None;
        if (client is not null && Chains(certificate, client.Certificates, intermediates, now))
            result |= ClientCertificateTrust.ClientCa;
        if (front is not null && Chains(certificate, front.Certificates, intermediates, now))
            result |= ClientCertificateTrust.RequestHeaderCa;
        if (_cache.Count > 10_000)
            _cache.Clear();
        _cache[key] = (client?.Version ?? 0, front?.Version ?? 0, now, result);
        return result;
    }

    private static bool Chains(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> roots, IEnumerable<X509Certificate2>? intermediates, DateTimeOffset now)
    {
        if (roots.Count == 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuth);
        foreach (var root in roots)
            chain.ChainPolicy.CustomTrustStore.Add(root);
        foreach (var extra in intermediates ?? [])
            if (extra.Thumbprint != certificate.Thumbprint)
                chain.ChainPolicy.ExtraStore.Add(extra);
        try
        {
            return chain.Build(certificate);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
