using KubeCaRotate.Pki;

namespace KubeCaRotate.Tests.Pki;

public class PemTests
{
    private static CertificateAuthority NewCa() =>
        CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));

    [Fact]
    public void Bundle_merge_order_and_remove()
    {
        var a = NewCa();
        var b = NewCa();
        var bundle = PemBundle.Of(a.Certificate).Merge(PemBundle.Of(b.Certificate, a.Certificate));
        Assert.Equal(2, bundle.Count);
        Assert.Same(a.Certificate, bundle.Certificates[0]);

        var ordered = bundle.OrderFor(b.Key);
        Assert.True(b.Key.Matches(ordered.First!));
        Assert.True(a.Key.Matches(ordered.Certificates[1]));

        var parsed = PemBundle.Parse(ordered.ToPem(), "test.crt");
        Assert.Equal(ordered.Certificates.Select(c => c.Thumbprint), parsed.Certificates.Select(c => c.Thumbprint));

        var removed = parsed.Remove(a.Certificate);
        Assert.Single(removed.Certificates);
        Assert.True(removed.Contains(b.Certificate));
        Assert.False(removed.Contains(a.Certificate));
    }

    [Theory]
    [InlineData(KeyAlgorithm.Rsa2048, "RSA PRIVATE KEY")]
    [InlineData(KeyAlgorithm.Rsa3072, "RSA PRIVATE KEY")]
    [InlineData(KeyAlgorithm.EcdsaP256, "EC PRIVATE KEY")]
    [InlineData(KeyAlgorithm.EcdsaP384, "EC PRIVATE KEY")]
    public void Keys_round_trip_in_kubeadm_encoding(KeyAlgorithm algorithm, string label)
    {
        using var key = PrivateKey.Generate(algorithm);
        var pem = key.ToPem();
        Assert.StartsWith($"-----BEGIN {label}-----", pem);
        using var back = PrivateKey.FromPem(pem, "k.key");
        Assert.Equal(algorithm, back.Algorithm);
        Assert.Equal(key.SubjectPublicKeyInfo(), back.SubjectPublicKeyInfo());
    }

    [Fact]
    public void Truncated_pem_names_the_file()
    {
        var pem = NewCa().CertificatePem();
        var truncated = pem[..(pem.Length / 2)];
        var e = Assert.Throws<PkiException>(() => PemBundle.Parse(truncated, "/x/pki/ca.crt"));
        Assert.Contains("/x/pki/ca.crt", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_certificate_given_as_a_key_is_refused_with_the_file_name()
    {
        var e = Assert.Throws<PkiException>(() => PrivateKey.FromPem(NewCa().CertificatePem(), "/x/pki/ca.key"));
        Assert.Contains("/x/pki/ca.key", e.Message);
        Assert.Contains("no private key", e.Message);
    }

    [Fact]
    public void Unsupported_key_types_are_refused()
    {
        using var ed = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP521);
        var pem = System.Security.Cryptography.PemEncoding.WriteString("EC PRIVATE KEY", ed.ExportECPrivateKey());
        var e = Assert.Throws<PkiException>(() => PrivateKey.FromPem(pem, "odd.key"));
        Assert.Contains("odd.key", e.Message);
        Assert.Contains("P-256 or P-384", e.Message);
    }

    [Fact]
    public void Loading_a_CA_checks_key_and_order()
    {
        var a = NewCa();
        var b = NewCa();
        var wrongOrder = PemBundle.Of(b.Certificate, a.Certificate).ToPem();
        var e = Assert.Throws<PkiException>(() => CertificateAuthority.Load(wrongOrder, "ca.crt", a.Key.ToPem(), "ca.key"));
        Assert.Contains("first certificate does not match", e.Message);
        var e2 = Assert.Throws<PkiException>(() => CertificateAuthority.Load(b.CertificatePem(), "ca.crt", a.Key.ToPem(), "ca.key"));
        Assert.Contains("does not belong", e2.Message);
        Assert.NotNull(CertificateAuthority.Load(PemBundle.Of(a.Certificate, b.Certificate).ToPem(), "ca.crt", a.Key.ToPem(), "ca.key"));
    }
}
