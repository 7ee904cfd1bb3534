using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>
/// The operator's own kubeconfig (often ~/.kube/config, with other clusters in it) follows the rotation only where it
/// concerns the rotated cluster: every kubeadm cluster CA is called CN=kubernetes, so a same-named CA or a user signed by
/// it belongs to another cluster and is left alone.
/// </summary>
public sealed class OperatorKubeconfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kcr-operator-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CertificateAuthority NewCa() =>
        CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(365));

    private static (string Cert, string Key) Admin(CertificateAuthority ca)
    {
        var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var template = CertificateTemplate.ForLeaf("kubernetes-admin", ["kubeadm:cluster-admins"], [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None);
        return (CertificateIssuer.System.Sign(template, key, ca, TimeSpan.FromDays(30)).ExportCertificatePem() + "\n", key.ToPem());
    }

    private static string B64(string pem) => Convert.ToBase64String(Encoding.ASCII.GetBytes(pem));

    [Fact]
    public async Task Only_the_rotated_clusters_ca_data_and_user_change_when_another_kubeadm_cluster_shares_the_file()
    {
        var old = NewCa();
        var other = NewCa(); // another kubeadm cluster: also CN=kubernetes
        var fresh = NewCa();
        Assert.Equal(old.Certificate.Subject, other.Certificate.Subject);
        var (mineCert, mineKey) = Admin(old);
        var (otherCert, otherKey) = Admin(other);
        var file = Path.Combine(_dir, "config");
        await File.WriteAllTextAsync(file, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: mine
              cluster: {"{"} server: "https://127.0.0.1:6443", certificate-authority-data: {B64(old.CertificatePem())} {"}"}
            - name: other
              cluster: {"{"} server: "https://127.0.0.1:7443", certificate-authority-data: {B64(other.CertificatePem())} {"}"}
            users:
            - name: mine-admin
              user: {"{"} client-certificate-data: {B64(mineCert)}, client-key-data: {B64(mineKey)} {"}"}
            - name: other-admin
              user: {"{"} client-certificate-data: {B64(otherCert)}, client-key-data: {B64(otherKey)} {"}"}
            contexts:
            - name: mine
              context: {"{"} cluster: mine, user: mine-admin {"}"}
            - name: other
              context: {"{"} cluster: other, user: other-admin {"}"}
            current-context: mine
            """);
        var staged = new StagedCa(CaKind.Cluster, old, fresh, null);
        var follower = new OperatorKubeconfig(file);

        await follower.FollowAsync(RotationPhase.Trusted, [staged], RotationMode.Rotate, CertificateIssuer.System, "r1", dryRun: false, CancellationToken.None);
        await follower.FollowAsync(RotationPhase.Switched, [staged], RotationMode.Rotate, CertificateIssuer.System, "r1", dryRun: false, CancellationToken.None);

        var config = Kubeconfig.Parse(await File.ReadAllBytesAsync(file), file);
        var mine = config.Clusters.Single(c => c.Name == "mine");
        var theirs = config.Clusters.Single(c => c.Name == "other");
        Assert.Equal(2, PemBundle.Parse(Encoding.ASCII.GetString(mine.CertificateAuthorityData!), "mine").Count);
        Assert.Equal(other.CertificatePem().Trim(), Encoding.ASCII.GetString(theirs.CertificateAuthorityData!).Trim());
        var mineNow = PemBundle.Parse(Encoding.ASCII.GetString(config.Users.Single(u => u.Name == "mine-admin").ClientCertificateData!), "mine-admin").First!;
        Assert.True(KubeCaRotate.Trust.CaCatalog.SignedBy(mineNow, fresh.Certificate), "the rotated cluster's admin was not re-issued by the new CA");
        Assert.Equal(otherCert, Encoding.ASCII.GetString(config.Users.Single(u => u.Name == "other-admin").ClientCertificateData!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(follower.BackupPath("r1")));
    }
}
