using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Tests.Etcd;

/// <summary>A throw-away CA for the etcd tests, made with CertificateRequest and written as kubeadm-style PEM files.</summary>
internal sealed class TestCertificateAuthority : IDisposable
{
    private readonly ECDsa _key;

    private TestCertificateAuthority(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        _key = key;
    }

    public X509Certificate2 Certificate { get; }

    public static TestCertificateAuthority Create(string commonName)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return new TestCertificateAuthority(request.CreateSelfSigned(now.AddMinutes(-10), now.AddDays(2)), key);
    }

    /// <summary>Issues a leaf for <paramref name="key"/>: serving (with loopback SANs) and/or client usage.</summary>
    public X509Certificate2 Issue(string commonName, AsymmetricAlgorithm key, bool serverAuth, bool clientAuth)
    {
        var request = key switch
        {
            ECDsa ec => new CertificateRequest($"CN={commonName}", ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest($"CN={commonName}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("Only EC and RSA keys.", nameof(key)),
        };
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection();
        if (serverAuth) usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (clientAuth) usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (serverAuth)
        {
            var sans = new SubjectAlternativeNameBuilder();
            sans.AddDnsName("localhost");
            sans.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(sans.Build());
        }
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        // The CA key is EC whatever the leaf's key is, so sign through a generator rather than the issuer certificate.
        return request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), now.AddMinutes(-5), now.AddDays(1), serial);
    }

    /// <summary>Issues a certificate and writes it and its key (mode 0600) to <paramref name="stem"/>.crt/.key.</summary>
    public (string Cert, string Key) WritePair(string stem, string commonName, bool serverAuth, bool clientAuth, KeyFormat format = KeyFormat.Sec1)
    {
        using AsymmetricAlgorithm key = format == KeyFormat.RsaPkcs1 ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = Issue(commonName, key, serverAuth, clientAuth);
        var pem = format switch
        {
            KeyFormat.Sec1 => ((ECDsa)key).ExportECPrivateKeyPem(),
            KeyFormat.RsaPkcs1 => ((RSA)key).ExportRSAPrivateKeyPem(),
            _ => key.ExportPkcs8PrivateKeyPem(),
        };
        WritePrivate(stem + ".key", pem);
        File.WriteAllText(stem + ".crt", cert.ExportCertificatePem() + "\n");
        return (stem + ".crt", stem + ".key");
    }

    public void WriteCertificate(string path) => File.WriteAllText(path, Certificate.ExportCertificatePem() + "\n");

    public static void WritePrivate(string path, string text)
    {
        File.Delete(path);
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var writer = new StreamWriter(path, options);
        writer.Write(text);
        writer.Write('\n');
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}

public enum KeyFormat { Sec1, RsaPkcs1, Pkcs8 }
