using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Lab.Tls;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// How a Go client (client-go, kubectl) checks an API server's certificate: a chain to one of the trusted CAs only (no
/// system roots), through the certificates the server sent after its leaf (e.g. a cross-signed CA), and the host it
/// connected to among the SANs. Returns null when trusted, else the reason, phrased to
/// follow "its serving certificate ...".
/// </summary>
internal static class ServerCertificateCheck
{
    public static string? Check(IReadOnlyList<X509Certificate2> roots, string trustName, X509Certificate? presented, X509Chain? chain, SslPolicyErrors errors, DateTimeOffset now)
    {
        if (presented is null) return "was not presented";
        var leaf = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var (ok, problem, _) = CertificateFacts.BuildChain(leaf, roots, now, SentIntermediates.Of(leaf, chain));
        if (!ok) return $"(\"{leaf.Subject}\" issued by \"{leaf.Issuer}\") does not chain to a CA in {trustName}{(problem is null ? "" : $" ({problem})")}";
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return "does not name the host we connected to in its subject alternative names";
        return null;
    }
}
