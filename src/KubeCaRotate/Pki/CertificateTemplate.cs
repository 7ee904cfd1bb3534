using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>
/// Everything of a certificate that does not depend on its key, issuer or validity: subject, CA flag, key usage,
/// extended key usages and SANs. Converting it to X.509 is a flat list of extensions.
/// </summary>
public sealed record CertificateTemplate(X500DistinguishedName Subject, bool IsCertificateAuthority, IReadOnlyList<X509Extension> Extensions)
{
    private const string SubjectAltNameOid = "2.5.29.17";
    private const string KeyUsageOid = "2.5.29.15";
    private const string ExtendedKeyUsageOid = "2.5.29.37";
    private const string BasicConstraintsOid = "2.5.29.19";

    /// <summary>kubeadm's CA: CN only, keyUsage digitalSignature+keyEncipherment+keyCertSign, CA:TRUE, a DNS SAN equal to the CN.</summary>
    public static CertificateTemplate ForCertificateAuthority(string commonName)
    {
        var subject = BuildSubject(commonName, []);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(commonName);
        return new CertificateTemplate(subject, true,
        [
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, critical: true),
            new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true),
            san.Build(),
        ]);
    }

    /// <summary>kubeadm's leaf: keyUsage digitalSignature+keyEncipherment, CA:FALSE, the given EKUs and SANs.</summary>
    public static CertificateTemplate ForLeaf(string commonName, IReadOnlyList<string> organizations, IReadOnlyList<ExtendedKeyUsage> usages, SubjectAltNames altNames)
    {
        var extensions = new List<X509Extension>
        {
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true),
            new X509EnhancedKeyUsageExtension(new OidCollection().With(usages.Select(u => u.ToOid())), critical: false),
            new X509BasicConstraintsExtension(false, false, 0, critical: true),
        };
        if (!altNames.IsEmpty)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var d in altNames.DnsNames) san.AddDnsName(d);
            foreach (var ip in altNames.IpAddresses) san.AddIpAddress(ip);
            extensions.Add(san.Build());
        }
        return new CertificateTemplate(BuildSubject(commonName, organizations), false, extensions);
    }

    /// <summary>
    /// The profile of an existing certificate, for re-issuing it: the same subject (byte for byte), CA flag, key usage,
    /// extended key usages and SANs. Key identifiers are not copied: they belong to the new key and issuer.
    /// </summary>
    public static CertificateTemplate CloneOf(X509Certificate2 existing)
    {
        var keep = existing.Extensions
            .Where(e => e.Oid?.Value is SubjectAltNameOid or KeyUsageOid or ExtendedKeyUsageOid or BasicConstraintsOid)
            .Select(e => new X509Extension(e.Oid!, e.RawData, e.Critical))
            .ToList();
        var isCa = existing.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
        return new CertificateTemplate(new X500DistinguishedName(existing.SubjectName.RawData), isCa, keep);
    }

    /// <summary>O attributes then CN in DER order, as Go's pkix.Name writes them (the builder emits in reverse order of adding).</summary>
    private static X500DistinguishedName BuildSubject(string commonName, IReadOnlyList<string> organizations)
    {
        var b = new X500DistinguishedNameBuilder();
        b.AddCommonName(commonName);
        foreach (var o in organizations.Reverse()) b.AddOrganizationName(o);
        return b.Build();
    }
}

internal static class OidCollectionExtensions
{
    public static OidCollection With(this OidCollection collection, IEnumerable<Oid> oids)
    {
        foreach (var o in oids) collection.Add(o);
        return collection;
    }
}
