using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Trust;

/// <summary>The CA certificates seen in a cluster, their short names, and which one issued a given certificate.</summary>
internal sealed class CaCatalog
{
    private readonly Dictionary<string, (X509Certificate2 Cert, CaIdentity Id)> _byFingerprint = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CaIdentity?> _issuers = new(StringComparer.Ordinal);

    public void Add(X509Certificate2 cert)
    {
        if (!CertificateFacts.IsCertificateAuthority(cert)) return;
        var fp = CertificateFacts.Sha256Fingerprint(cert);
        if (_byFingerprint.ContainsKey(fp)) return;
        _byFingerprint[fp] = (cert, new CaIdentity($"{CertificateFacts.CommonName(cert)} [{fp[..8]}]", cert.Subject, fp,
            new DateTimeOffset(cert.NotBefore.ToUniversalTime()), new DateTimeOffset(cert.NotAfter.ToUniversalTime())));
    }

    public IReadOnlyList<CaIdentity> All => _byFingerprint.Values.Select(v => v.Id).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();

    /// <summary>"kubernetes [1A2B3C4D]" for a CA certificate; its CN and fingerprint for anything else.</summary>
    public string Name(X509Certificate2 cert)
    {
        var fp = CertificateFacts.Sha256Fingerprint(cert);
        return _byFingerprint.TryGetValue(fp, out var known) ? known.Id.Name : $"{CertificateFacts.CommonName(cert)} [{fp[..8]}]";
    }

    /// <summary>The CA whose key signed <paramref name="cert"/> (a self-signed CA is its own issuer), or null when none seen has.</summary>
    public CaIdentity? IssuerOf(X509Certificate2 cert) =>
        _issuers.GetOrAdd(cert.Thumbprint, _ =>
        {
            foreach (var (candidate, id) in _byFingerprint.Values)
            {
                if (!candidate.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData)) continue;
                if (candidate.RawData.AsSpan().SequenceEqual(cert.RawData)) return id;
                if (SignedBy(cert, candidate)) return id;
            }
            return null;
        });

    /// <summary>"CA kubernetes [1A2B3C4D]" or "an unknown CA (CN=...)": who issued a presented certificate.</summary>
    public string IssuerName(X509Certificate2 cert) =>
        IssuerOf(cert) is { } ca ? $"CA {ca.Name}" : $"an unknown CA ({cert.Issuer})";

    public static bool SignedBy(X509Certificate2 cert, X509Certificate2 issuer)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags;
        chain.ChainPolicy.CustomTrustStore.Add(issuer);
        chain.ChainPolicy.ExtraStore.Add(issuer);
        chain.Build(cert);
        return chain.ChainElements.Count > 1
            && chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(issuer.RawData)
            && chain.ChainElements[0].ChainElementStatus.All(s => (s.Status & X509ChainStatusFlags.NotSignatureValid) == 0);
    }
}
