using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Lab.Tls;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Control;

/// <summary>HTTPS clients with an identity from a kubeconfig and trust in its CA data only (as client-go builds them).</summary>
public static class LabClients
{
    public static HttpClient FromKubeconfig(string kubeconfigPath, TimeSpan timeout)
    {
        var config = Kubeconfig.Parse(File.ReadAllBytes(kubeconfigPath), kubeconfigPath);
        var cluster = config.CurrentCluster ?? throw new InvalidOperationException($"{kubeconfigPath} has no current cluster.");
        var user = config.CurrentUser ?? throw new InvalidOperationException($"{kubeconfigPath} has no current user.");
        var roots = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(cluster.CertificateAuthorityData!), kubeconfigPath + " (certificate-authority-data)").Certificates;
        var certPem = Encoding.ASCII.GetString(user.ClientCertificateData!);
        var keyPem = Encoding.ASCII.GetString(user.ClientKeyData!);
        return Create(roots, X509Certificate2.CreateFromPem(certPem, keyPem), timeout);
    }

    public static HttpClient Create(IReadOnlyList<X509Certificate2> roots, X509Certificate2? clientCertificate, TimeSpan timeout)
    {
        // Export/import so that the key is usable by SslStream on Linux.
        var identity = clientCertificate is null ? null : X509CertificateLoader.LoadPkcs12(clientCertificate.Export(X509ContentType.Pkcs12), null);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = identity is null ? null : new X509CertificateCollection { identity },
                // Trust only the given roots, through what the server sent after its leaf, and check the name as client-go does.
                RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
                {
                    if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    var leaf = cert as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
                    return CertificateFacts.BuildChain(leaf, roots, DateTimeOffset.UtcNow, SentIntermediates.Of(leaf, chain)).Ok;
                },
            },
        };
        return new HttpClient(handler) { Timeout = timeout };
    }
}
