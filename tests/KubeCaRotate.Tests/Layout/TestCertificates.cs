using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace KubeCaRotate.Tests.Layout;

/// <summary>Real PEM certificates and keys for kubeconfig tests, made with .NET's own X.509 classes.</summary>
internal static class TestCertificates
{
    public static (byte[] CertificatePem, byte[] KeyPem) SelfSigned(string commonName, bool isCa = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        if (isCa)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        }

        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n"), Encoding.ASCII.GetBytes(key.ExportECPrivateKeyPem() + "\n"));
    }
}
