using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Pki;
using Microsoft.Extensions.Time.Testing;

namespace KubeCaRotate.Tests.Pki;

public class CertificateIssuerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Validity_is_backdated_five_minutes_and_follows_the_clock()
    {
        var clock = new FakeTimeProvider(Start);
        var issuer = new CertificateIssuer(clock);
        var ca = issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        Assert.Equal(Start.AddMinutes(-5), new DateTimeOffset(ca.Certificate.NotBefore.ToUniversalTime()));
        Assert.Equal(Start.AddDays(3650), new DateTimeOffset(ca.Certificate.NotAfter.ToUniversalTime()));
        Assert.True(CertificateFacts.IsCertificateAuthority(ca.Certificate));
        Assert.Equal("CN=kubernetes", ca.Certificate.Subject);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reissue_keeps_subject_sans_and_usages_under_a_new_CA(bool keepKey)
    {
        var clock = new FakeTimeProvider(Start);
        var issuer = new CertificateIssuer(clock);
        var oldCa = issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.Rsa2048, TimeSpan.FromDays(3650));
        var newCa = issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP384, TimeSpan.FromDays(3650));
        var ctx = new PkiContext(new ClusterPkiSpec(), new NodePkiSpec("cp-1", System.Net.IPAddress.Parse("127.0.0.11")));
        var key = PrivateKey.Generate(KeyAlgorithm.Rsa2048);
        var original = issuer.Sign(KubeadmCatalog.ApiServer.Template(ctx), key, oldCa, TimeSpan.FromDays(365));

        clock.Advance(TimeSpan.FromDays(100));
        var newKey = keepKey ? key : PrivateKey.Generate(KeyAlgorithm.Rsa2048);
        var again = issuer.Reissue(original, newKey, newCa, TimeSpan.FromDays(365));

        Assert.Equal(original.SubjectName.RawData, again.SubjectName.RawData);
        Assert.Equal(CertificateFacts.AltNames(original).DnsNames, CertificateFacts.AltNames(again).DnsNames);
        Assert.Equal(CertificateFacts.AltNames(original).IpAddresses, CertificateFacts.AltNames(again).IpAddresses);
        Assert.Equal(CertificateFacts.ExtendedKeyUsages(original), CertificateFacts.ExtendedKeyUsages(again));
        Assert.Equal(keepKey, key.Matches(again));
        Assert.True(newKey.Matches(again));
        Assert.NotEqual(original.SerialNumber, again.SerialNumber);
        Assert.Equal(Start.AddDays(100).AddMinutes(-5), new DateTimeOffset(again.NotBefore.ToUniversalTime()));
        Assert.True(CertificateFacts.ChainsTo(again, [newCa.Certificate], clock.GetUtcNow()));
        Assert.False(CertificateFacts.ChainsTo(again, [oldCa.Certificate], clock.GetUtcNow()));
        Assert.Equal("sha384ECDSA", again.SignatureAlgorithm.FriendlyName, ignoreCase: true);
    }

    [Fact]
    public void Cross_signed_CA_lets_an_old_trust_anchor_accept_new_leaves()
    {
        var issuer = CertificateIssuer.System;
        var oldCa = issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        var newCa = issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        var cross = issuer.Sign(CertificateTemplate.CloneOf(newCa.Certificate), newCa.Key, oldCa, TimeSpan.FromDays(365));
        var leafKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var leaf = issuer.Sign(CertificateTemplate.ForLeaf("x", [], [ExtendedKeyUsage.ServerAuth], SubjectAltNames.None), leafKey, newCa, TimeSpan.FromDays(30));
        Assert.False(CertificateFacts.ChainsTo(leaf, [oldCa.Certificate], DateTimeOffset.UtcNow));
        Assert.True(CertificateFacts.ChainsTo(leaf, [oldCa.Certificate], DateTimeOffset.UtcNow, [cross]));
    }

    [Fact]
    public void Renewing_a_CA_with_the_same_key_keeps_old_leaves_valid()
    {
        var issuer = CertificateIssuer.System;
        var ca = issuer.NewCertificateAuthority(KubeadmCatalog.EtcdCa, KeyAlgorithm.Rsa2048, TimeSpan.FromDays(10));
        var leaf = issuer.Sign(CertificateTemplate.ForLeaf("x", [], [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None), PrivateKey.Generate(KeyAlgorithm.EcdsaP256), ca, TimeSpan.FromDays(5));
        var renewed = issuer.SelfSign(CertificateTemplate.CloneOf(ca.Certificate), ca.Key, TimeSpan.FromDays(3650));
        Assert.Equal(ca.Certificate.SubjectName.RawData, renewed.SubjectName.RawData);
        Assert.True(renewed.NotAfter > ca.Certificate.NotAfter.AddDays(3000));
        Assert.True(CertificateFacts.ChainsTo(leaf, [renewed], DateTimeOffset.UtcNow));
    }
}
