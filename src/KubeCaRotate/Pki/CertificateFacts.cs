using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>Facts read off a certificate, for reports and checks.</summary>
public static class CertificateFacts
{
    public static bool IsCertificateAuthority(X509Certificate2 cert) =>
        cert.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority)
        && cert.Extensions.OfType<X509KeyUsageExtension>().All(k => k.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign));

    public static string CommonName(X509Certificate2 cert) => cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    public static IReadOnlyList<string> Organizations(X509Certificate2 cert) =>
        cert.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(r => r.GetSingleElementType().Value == "2.5.4.10")
            .Select(r => r.GetSingleElementValue() ?? "")
            .ToArray();

    public static SubjectAltNames AltNames(X509Certificate2 cert)
    {
        var san = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        return san is null ? SubjectAltNames.None : new SubjectAltNames(san.EnumerateDnsNames().ToArray(), san.EnumerateIPAddresses().ToArray());
    }

    public static IReadOnlyList<string> ExtendedKeyUsages(X509Certificate2 cert) =>
        cert.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>())
            .Select(o => Pki.ExtendedKeyUsages.Describe(o.Value ?? ""))
            .ToArray();

    public static string Sha256Fingerprint(X509Certificate2 cert) =>
        Convert.ToHexString(SHA256.HashData(cert.RawData));

    /// <summary>"sha256:&lt;hex&gt;" of the SubjectPublicKeyInfo: kubeadm's --discovery-token-ca-cert-hash.</summary>
    public static string PublicKeyPin(X509Certificate2 cert) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(cert.PublicKey.ExportSubjectPublicKeyInfo()));

    public static string KeyType(X509Certificate2 cert)
    {
        if (cert.GetRSAPublicKey() is { } rsa) return $"RSA-{rsa.KeySize}";
        if (cert.GetECDsaPublicKey() is { } ec) return ec.KeySize == 384 ? "ECDSA-P384" : ec.KeySize == 256 ? "ECDSA-P256" : $"ECDSA-{ec.KeySize}";
        return cert.PublicKey.Oid.FriendlyName ?? cert.PublicKey.Oid.Value ?? "unknown";
    }

    /// <summary>True when <paramref name="cert"/> chains to one of <paramref name="roots"/> (custom trust only) at <paramref name="at"/>.</summary>
    public static bool ChainsTo(X509Certificate2 cert, IEnumerable<X509Certificate2> roots, DateTimeOffset at, IEnumerable<X509Certificate2>? intermediates = null) =>
        BuildChain(cert, roots, at, intermediates, ignoreTime: false).Ok;

    /// <summary>
    /// Real X.509 chain building against custom roots only (no system store, no revocation). Returns whether it built
    /// and the first reported problem.
    /// </summary>
    public static (bool Ok, string? Problem, X509Certificate2? Root) BuildChain(
        X509Certificate2 cert, IEnumerable<X509Certificate2> roots, DateTimeOffset at,
        IEnumerable<X509Certificate2>? intermediates = null, bool ignoreTime = false)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (ignoreTime) chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        foreach (var r in roots) chain.ChainPolicy.CustomTrustStore.Add(r);
        if (intermediates is not null)
            foreach (var i in intermediates) chain.ChainPolicy.ExtraStore.Add(i);
        var ok = chain.Build(cert);
        var problem = ok ? null : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        var root = chain.ChainElements.Count > 0 ? chain.ChainElements[^1].Certificate : null;
        return (ok, problem, ok ? root : null);
    }
}
