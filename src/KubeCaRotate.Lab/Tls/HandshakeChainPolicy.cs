using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Tls;

/// <summary>
/// The chain policy a lab TLS endpoint hands SslStream for the chain it builds before calling the validation callback.
/// Without one, SslStream on Linux builds that chain against the machine's root and intermediate stores: every handshake
/// then copies the ~150 certificates of /etc/ssl/certs into a new OpenSSL store and sorts them, which made chain building
/// the largest CPU cost of the prober (one handshake per edge per second). No lab component trusts the machine's stores
/// (Go's crypto/tls with a RootCAs pool, kube-apiserver with a client CA file, haproxy with "verify none" never consult
/// them), and every callback judges the peer itself, so the chain is built against the component's own trust, or
/// against nothing where the component does not verify, with no revocation check and no downloads.
/// <para>A new policy per handshake: SslStream adds the certificates the peer sent to its ExtraStore
/// (<see cref="SentIntermediates"/> reads them there), which must never carry one handshake's certificates into the
/// next.</para>
/// </summary>
internal static class HandshakeChainPolicy
{
    public static X509ChainPolicy Trusting(IEnumerable<X509Certificate2>? roots = null)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        if (roots is not null)
            foreach (var root in roots) policy.CustomTrustStore.Add(root);
        return policy;
    }
}
