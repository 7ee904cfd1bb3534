using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>
/// Signs certificates the way kubeadm does: random 63-bit serials, notBefore backdated by 5 minutes
/// (kubeadm's CertificateBackdate), signature hash chosen by the signer's key as Go's x509 does,
/// subject and authority key identifiers.
/// </summary>
public sealed class CertificateIssuer(TimeProvider time)
{
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    public static CertificateIssuer System { get; } = new(TimeProvider.System);

    public TimeProvider Time { get; } = time;

    /// <summary>A self-signed certificate (a new CA, or a CA renewed with the same key).</summary>
    public X509Certificate2 SelfSign(CertificateTemplate template, PrivateKey key, TimeSpan validity)
    {
        var request = NewRequest(template, key, key.SignatureHash);
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        var (notBefore, notAfter) = Validity(validity);
        using var signed = request.Create(template.Subject, key.SignatureGenerator(), notBefore, notAfter, NewSerial());
        return X509CertificateLoader.LoadCertificate(signed.RawData);
    }

    /// <summary>Signs <paramref name="template"/> for <paramref name="subjectKey"/> with <paramref name="issuer"/>.</summary>
    public X509Certificate2 Sign(CertificateTemplate template, PrivateKey subjectKey, CertificateAuthority issuer, TimeSpan validity) =>
        Sign(template, subjectKey.Key, issuer, validity);

    /// <summary>Signs a template for a bare public key (e.g. cross-signing a CA whose key lives elsewhere).</summary>
    public X509Certificate2 Sign(CertificateTemplate template, AsymmetricAlgorithm subjectPublicKey, CertificateAuthority issuer, TimeSpan validity)
    {
        var request = subjectPublicKey switch
        {
            RSA rsa => new CertificateRequest(template.Subject, rsa, issuer.Key.SignatureHash, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest(template.Subject, ec, issuer.Key.SignatureHash),
            _ => throw new PkiException("Only RSA and ECDSA keys can be certified."),
        };
        foreach (var e in template.Extensions) request.CertificateExtensions.Add(e);
        if (template.IsCertificateAuthority)
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var (notBefore, notAfter) = Validity(validity);
        using var signed = request.Create(issuer.Certificate.SubjectName, issuer.Key.SignatureGenerator(), notBefore, notAfter, NewSerial());
        return X509CertificateLoader.LoadCertificate(signed.RawData);
    }

    /// <summary>
    /// Re-issues <paramref name="existing"/> under <paramref name="issuer"/>: same subject, SANs and usages, the given key
    /// (a new one, or the old one to keep the key), a new validity from now.
    /// </summary>
    public X509Certificate2 Reissue(X509Certificate2 existing, PrivateKey key, CertificateAuthority issuer, TimeSpan validity) =>
        Sign(CertificateTemplate.CloneOf(existing), key, issuer, validity);

    /// <summary>Creates a new CA: a fresh key of <paramref name="algorithm"/> and its self-signed certificate.</summary>
    public CertificateAuthority NewCertificateAuthority(CaProfile profile, KeyAlgorithm algorithm, TimeSpan validity)
    {
        var key = PrivateKey.Generate(algorithm);
        return new CertificateAuthority(SelfSign(profile.Template(), key, validity), key);
    }

    private static CertificateRequest NewRequest(CertificateTemplate template, PrivateKey key, HashAlgorithmName hash)
    {
        var request = key.Key switch
        {
            RSA rsa => new CertificateRequest(template.Subject, rsa, hash, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest(template.Subject, ec, hash),
            _ => throw new PkiException("Only RSA and ECDSA keys can be certified."),
        };
        foreach (var e in template.Extensions) request.CertificateExtensions.Add(e);
        return request;
    }

    private (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity(TimeSpan validity)
    {
        var now = Time.GetUtcNow();
        var whole = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        return (whole - Backdate, whole + validity);
    }

    /// <summary>A random serial in [1, 2^63-1), as kubeadm draws them.</summary>
    private static byte[] NewSerial()
    {
        Span<byte> b = stackalloc byte[8];
        do
        {
            RandomNumberGenerator.Fill(b);
            b[0] &= 0x7F;
        }
        while (b.IndexOfAnyExcept((byte)0) < 0);
        return b.ToArray();
    }
}
