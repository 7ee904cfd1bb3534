using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Tls;

/// <summary>
/// The certificates a TLS peer sent after its leaf, which Go's crypto/tls hands to x509.Verify as the intermediates
/// (handshake_client.go: every certificate after the first goes into VerifyOptions.Intermediates). SslStream puts what the
/// peer sent into the ExtraStore of the chain it gives the validation callback (dotnet/runtime#59944); the chain's own
/// elements are not used because .NET built them against the machine's stores, which a Go client never consults.
/// </summary>
internal static class SentIntermediates
{
    public static IReadOnlyList<X509Certificate2> Of(X509Certificate2 leaf, X509Chain? chain) =>
        chain is null ? [] : chain.ChainPolicy.ExtraStore.Where(c => !c.RawData.AsSpan().SequenceEqual(leaf.RawData)).ToList();
}
