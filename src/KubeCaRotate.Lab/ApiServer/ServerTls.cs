using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The TLS settings of one handshake: the current serving chain, a request for a client certificate that
/// allows none (so bearer tokens work), the client CAs advertised as acceptable issuers, and verification of
/// a presented certificate against the client CA bundles. A certificate that chains to neither bundle fails
/// the handshake (a TLS alert), as Go's VerifyClientCertIfGiven does in kube-apiserver.
/// <para>While --tls-cert-file carries certificates after the leaf (a rotation's cross-signed CA), no acceptable
/// issuers are named: given any handshake trust, .NET on Linux cuts the chain it sends at that trust (a leaf followed by
/// the new cluster CA signed by the old one went out as the leaf alone, since both CAs are named "kubernetes"), while
/// kube-apiserver sends every certificate of the file, which is what a client trusting only the old CA needs. Go
/// clients, and the lab's, offer their certificate when no issuers are named, so client authentication is unchanged.</para>
/// </summary>
internal sealed class ServerTls(ServingCertificate serving, ClientCertificateVerifier verifier)
{
    private readonly Lock _gate = new();
    private (int Serving, int Client, int Front, SslStreamCertificateContext Context)? _context;

    public SslServerAuthenticationOptions OptionsForHandshake() => new()
    {
        ServerCertificateContext = Context(),
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
        RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
        {
            if (certificate is null)
                return true;
            var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            var sent = chain?.ChainElements.Select(e => e.Certificate).ToList();
            return verifier.Verify(leaf, sent) != ClientCertificateTrust.None;
        },
    };

    private SslStreamCertificateContext Context()
    {
        var current = serving.Current ?? throw new InvalidOperationException("No serving certificate is loaded.");
        var client = verifier.ClientCa?.Current.Version ?? 0;
        var front = verifier.RequestHeaderCa?.Current.Version ?? 0;
        lock (_gate)
        {
            if (_context is { } c && c.Serving == current.Version && c.Client == client && c.Front == front)
                return c.Context;
            var trust = current.Chain.Count > 0 ? null : SslCertificateTrust.CreateForX509Collection(verifier.AcceptableIssuers(), sendTrustInHandshake: true);
            var context = SslStreamCertificateContext.Create(current.Leaf, current.Chain, offline: true, trust);
            _context = (current.Version, client, front, context);
            return context;
        }
    }
}
