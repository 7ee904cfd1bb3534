using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>The root CA watch on the lab, whose controller-manager publishes its --root-ca-file (the cluster CA) everywhere.</summary>
[Collection("waits lab")]
public sealed class RootCaWatchTests(WaitsLab lab)
{
    private ClusterRootCaWatch Watch(TimeSpan timeout) => new(lab.Connection, TimeProvider.System, timeout);

    private async Task<X509Certificate2> ClusterCaAsync()
    {
        var pem = await lab.Nodes["cp-1"].Access.ReadFileAsync(lab.Paths.CaCert(CaKind.Cluster));
        return PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(pem!), "cp-1 ca.crt").First!;
    }

    private static string Fingerprint(X509Certificate2 c) => Convert.ToHexStringLower(c.GetCertHash(HashAlgorithmName.SHA256))[..16];

    [Fact]
    public async Task The_lab_cluster_ca_is_seen_published_in_every_namespace_and_token_secret()
    {
        var api = await lab.Connection.GetAsync(CancellationToken.None);
        var namespaces = await api.ListNamespacesAsync(CancellationToken.None);
        var tokens = (await api.ListSecretsAsync(CancellationToken.None)).Where(s => s.Type == ClusterRootCaWatch.TokenSecretType).ToList();
        Assert.True(namespaces.Count >= 5, "the lab has its namespaces");
        Assert.NotEmpty(tokens); // lab-N/app-token: the watch has Secrets to judge, not just ConfigMaps

        await Watch(TimeSpan.FromMinutes(2)).WaitPublishedAsync([await ClusterCaAsync()], CancellationToken.None);
    }

    [Fact]
    public async Task Another_ca_than_the_published_one_fails_the_wait_naming_an_object_and_both_fingerprints()
    {
        var published = await ClusterCaAsync();
        var other = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(1));
        using var _ = other.Key;
        var otherCa = other.Certificate;

        var e = await Assert.ThrowsAsync<RotationException>(() => Watch(TimeSpan.FromSeconds(2)).WaitPublishedAsync([otherCa], CancellationToken.None));

        Assert.Matches(@"(ConfigMap [a-z0-9-]+/kube-root-ca\.crt|Secret [a-z0-9-]+/[a-z0-9-]+) holds sha256 ", e.Message);
        Assert.Contains($"sha256 {Fingerprint(published)}… in ca.crt instead of sha256 {Fingerprint(otherCa)}…", e.Message);
        Assert.Contains("more objects lag", e.Message);
        Assert.Contains("kube-controller-manager", e.Message);
    }

    [Fact]
    public async Task A_bundle_of_old_and_new_is_not_yet_published_while_only_the_old_ca_is()
    {
        var published = await ClusterCaAsync();
        using var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var next = CertificateIssuer.System.SelfSign(KubeadmCatalog.ClusterCa.Template(), key, TimeSpan.FromDays(1));

        var e = await Assert.ThrowsAsync<RotationException>(() => Watch(TimeSpan.FromSeconds(2)).WaitPublishedAsync([published, next], CancellationToken.None));

        Assert.Contains("kube-root-ca.crt", e.Message);
        Assert.Contains($"holds sha256 {Fingerprint(published)}… in ca.crt instead of ", e.Message);
        Assert.Contains($"sha256 {Fingerprint(next)}…", e.Message);
    }
}
