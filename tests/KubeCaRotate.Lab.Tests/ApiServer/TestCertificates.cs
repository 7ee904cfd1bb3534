using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>Throw-away CAs and leaf certificates for the stand-in's tests, made with System.Security.Cryptography.</summary>
internal sealed class TestCa
{
    private TestCa(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        Key = key;
    }

    public X509Certificate2 Certificate { get; }
    public ECDsa Key { get; }
    public string CertificatePem => Certificate.ExportCertificatePem() + "\n";

    public static TestCa Create(string commonName)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new TestCa(request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1)), key);
    }

    /// <summary>A leaf: server auth with IP SANs, or client auth with CN and O entries.</summary>
    public (X509Certificate2 Certificate, ECDsa Key) Issue(string commonName, IEnumerable<string>? organizations = null, bool server = false, IEnumerable<IPAddress>? ips = null, TimeSpan? lifetime = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = string.Join(", ", new[] { $"CN={commonName}" }.Concat((organizations ?? []).Select(o => $"O={o}")));
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            foreach (var ip in ips ?? [IPAddress.Loopback])
                san.AddIpAddress(ip);
            request.CertificateExtensions.Add(san.Build());
        }
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var cert = request.Create(Certificate, now.AddMinutes(-5), now.Add(lifetime ?? TimeSpan.FromDays(30)), serial);
        return (cert, key);
    }

    public static void WritePair(string directory, string stem, X509Certificate2 certificate, ECDsa key)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, stem + ".crt"), certificate.ExportCertificatePem() + "\n");
        var keyPath = Path.Combine(directory, stem + ".key");
        File.WriteAllText(keyPath, key.ExportECPrivateKeyPem() + "\n");
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
