using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// The credentials of an edge, loaded: the client certificate to present, the token to send, how to check the server,
/// and the CAs that check trusts (none when the client does not verify), for the chain SslStream builds before the check.
/// </summary>
internal sealed record EdgeMaterial(
    X509Certificate2? ClientCertificate, string? Token, Func<X509Certificate?, X509Chain?, SslPolicyErrors, DateTimeOffset, string?>? CheckServer,
    IReadOnlyList<X509Certificate2> Roots)
{
    /// <summary>
    /// The client certificate as SslStream sends it, built once per loaded material: given the certificate alone,
    /// SslStream builds this context (a chain against the machine's stores, to find intermediates to send) at every
    /// handshake. Nothing else is sent either way: the lab's CAs are in no machine store, so the leaf goes alone, as a
    /// Go client sends the certificate of its kubeconfig or --*-certfile.
    /// </summary>
    public SslStreamCertificateContext? ClientContext { get; } =
        ClientCertificate is null ? null : SslStreamCertificateContext.Create(ClientCertificate, null, offline: true);
}
