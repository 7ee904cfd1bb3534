using KubeCaRotate.Pki;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Tests.Trust;

public sealed class TrustBundleVerifierTests
{
    private static readonly CertificateIssuer Issuer = CertificateIssuer.System;

    [Fact]
    public void An_intermediate_alone_in_the_bundle_is_an_anchor_as_in_Go_although_dotnet_does_not_stop_there()
    {
        var root = Issuer.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "root", "root", "org-root", "root"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        using var intermediateKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var intermediateCert = Issuer.Sign(CertificateTemplate.ForCertificateAuthority("kubernetes"), intermediateKey, root, TimeSpan.FromDays(1000));
        var intermediate = new CertificateAuthority(intermediateCert, intermediateKey);
        using var leafKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var leaf = Issuer.Sign(CertificateTemplate.ForLeaf("kube-apiserver", [], [ExtendedKeyUsage.ServerAuth],
            SubjectAltNames.From(["kubernetes"], [System.Net.IPAddress.Parse("10.0.0.1")], [], out _)), leafKey, intermediate, TimeSpan.FromDays(100));
        var now = DateTimeOffset.UtcNow;

        // .NET on Linux wants a self-signed anchor: the plain chain build fails with only the intermediate trusted.
        Assert.False(CertificateFacts.BuildChain(leaf, [intermediateCert], now).Ok);

        var verifier = new TrustBundleVerifier();
        Assert.True(verifier.Verify([leaf], [intermediateCert], now, TrustBundleVerifier.ServerAuthOid, "10.0.0.1").Ok);
        Assert.True(verifier.Verify([leaf, intermediateCert], [root.Certificate], now, TrustBundleVerifier.ServerAuthOid, "kubernetes").Ok);
        Assert.Equal(ChainFailure.UntrustedIssuer, verifier.Verify([leaf], [root.Certificate], now, TrustBundleVerifier.ServerAuthOid, null).Failure);
        Assert.Equal(ChainFailure.NameMismatch, verifier.Verify([leaf], [intermediateCert], now, TrustBundleVerifier.ServerAuthOid, "10.0.0.2").Failure);
        Assert.Equal(ChainFailure.WrongUsage, verifier.Verify([leaf], [intermediateCert], now, TrustBundleVerifier.ClientAuthOid, null).Failure);
        Assert.Equal(ChainFailure.LeafExpired, verifier.Verify([leaf], [intermediateCert], now.AddDays(200), TrustBundleVerifier.ServerAuthOid, null).Failure);
    }
}
