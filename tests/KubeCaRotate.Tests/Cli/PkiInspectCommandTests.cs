using System.Text;
using System.Text.Json;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace KubeCaRotate.Tests.Cli;

public class PkiInspectCommandTests
{
    private static string NewTree(TempDir tmp)
    {
        var r = TestSupport.Cli.Run("pki", "init", "--dir", tmp.Path, "--node-name", "cp-1", "--advertise-address", "127.0.0.11", "--algorithm", "ECDSA-P256");
        Assert.True(r.ExitCode == 0, r.Output);
        return tmp.Path;
    }

    private static (int Code, JsonElement Report, string Text) Inspect(string dir, params string[] more)
    {
        var json = TestSupport.Cli.Run(["pki", "inspect", "--dir", dir, "-o", "json", .. more]);
        var text = TestSupport.Cli.Run(["pki", "inspect", "--dir", dir, .. more]);
        Assert.Equal(json.ExitCode, text.ExitCode);
        return (json.ExitCode, JsonDocument.Parse(json.Output).RootElement, text.Output);
    }

    private static List<(string Source, string Kind, string Message)> Problems(JsonElement report) =>
        report.GetProperty("problems").EnumerateArray()
            .Select(p => (p.GetProperty("source").GetString()!, p.GetProperty("kind").GetString()!, p.GetProperty("message").GetString()!))
            .ToList();

    private static CertificateAuthority Ca(string dir, string name) =>
        CertificateAuthority.Load(File.ReadAllText(Path.Combine(dir, "pki", name + ".crt")), name + ".crt", File.ReadAllText(Path.Combine(dir, "pki", name + ".key")), name + ".key");

    private static void WriteLeaf(string dir, string baseName, System.Security.Cryptography.X509Certificates.X509Certificate2 cert, PrivateKey key)
    {
        File.WriteAllText(Path.Combine(dir, "pki", baseName + ".crt"), cert.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "pki", baseName + ".key"), key.ToPem());
    }

    [Fact]
    public void A_fresh_tree_is_clean_and_every_issuer_is_found_by_chain_building()
    {
        using var tmp = new TempDir();
        var (code, report, text) = Inspect(NewTree(tmp));
        Assert.True(code == 0, text);
        Assert.Empty(Problems(report));
        var certs = report.GetProperty("certificates").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.Equal("etcd-ca", certs["apiserver-etcd-client"].GetProperty("signedBy").GetString());
        Assert.Equal("front-proxy-ca", certs["front-proxy-client"].GetProperty("signedBy").GetString());
        Assert.Equal("ca", certs["kubelet.conf"].GetProperty("signedBy").GetString());
        Assert.Equal(12, certs.Count);
        Assert.Equal(3, report.GetProperty("certificateAuthorities").GetArrayLength());
        var api = certs["apiserver"];
        Assert.Contains("DNS:kubernetes.default.svc.cluster.local", api.GetProperty("altNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(64, api.GetProperty("sha256Fingerprint").GetString()!.Length);
        Assert.Equal("ECDSA-P256", api.GetProperty("keyType").GetString());
        Assert.Contains("No problems found", text);
    }

    [Fact]
    public void Names_an_expired_and_an_expiring_certificate()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        var ca = Ca(dir, "ca");
        var past = new CertificateIssuer(new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-400)));
        var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var existing = PemBundle.Parse(File.ReadAllText(Path.Combine(dir, "pki/apiserver-kubelet-client.crt")), "x").First!;
        WriteLeaf(dir, "apiserver-kubelet-client", past.Reissue(existing, key, ca, TimeSpan.FromDays(365)), key);
        var front = Ca(dir, "front-proxy-ca");
        var key2 = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var existing2 = PemBundle.Parse(File.ReadAllText(Path.Combine(dir, "pki/front-proxy-client.crt")), "x").First!;
        WriteLeaf(dir, "front-proxy-client", CertificateIssuer.System.Reissue(existing2, key2, front, TimeSpan.FromDays(10)), key2);

        var (code, report, text) = Inspect(dir);
        Assert.Equal(1, code);
        var problems = Problems(report);
        Assert.Contains(problems, p => p.Kind == "expired" && p.Source.EndsWith("pki/apiserver-kubelet-client.crt"));
        Assert.Contains(problems, p => p.Kind == "expiringSoon" && p.Source.EndsWith("pki/front-proxy-client.crt"));
        Assert.Equal(2, problems.Count);
        Assert.Contains("apiserver-kubelet-client.crt expired", text);
        Assert.Equal(0, Inspect(dir, "--warn-within", "1d").Report.GetProperty("problems").EnumerateArray().Count(p => p.GetProperty("kind").GetString() == "expiringSoon"));
    }

    [Fact]
    public void Names_a_leaf_signed_by_another_CA()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        var etcd = Ca(dir, "etcd/ca");
        var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var existing = PemBundle.Parse(File.ReadAllText(Path.Combine(dir, "pki/apiserver.crt")), "x").First!;
        WriteLeaf(dir, "apiserver", CertificateIssuer.System.Reissue(existing, key, etcd, TimeSpan.FromDays(300)), key);
        var foreign = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(300));
        var key2 = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var existing2 = PemBundle.Parse(File.ReadAllText(Path.Combine(dir, "pki/etcd/peer.crt")), "x").First!;
        WriteLeaf(dir, "etcd/peer", CertificateIssuer.System.Reissue(existing2, key2, foreign, TimeSpan.FromDays(300)), key2);

        var (code, report, _) = Inspect(dir);
        Assert.Equal(1, code);
        var problems = Problems(report);
        var api = Assert.Single(problems, p => p.Source.EndsWith("pki/apiserver.crt"));
        Assert.Equal("notSignedByItsCa", api.Kind);
        Assert.Contains("signed by etcd-ca", api.Message);
        var peer = Assert.Single(problems, p => p.Source.EndsWith("pki/etcd/peer.crt"));
        Assert.Equal("notSignedByItsCa", peer.Kind);
        Assert.Contains("nor by any other CA", peer.Message);
    }

    [Fact]
    public void Names_a_key_that_does_not_match_and_a_bundle_in_the_wrong_order()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        File.WriteAllText(Path.Combine(dir, "pki/apiserver-etcd-client.key"), PrivateKey.Generate(KeyAlgorithm.EcdsaP256).ToPem());
        var staged = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.FrontProxyCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3000));
        var path = Path.Combine(dir, "pki/front-proxy-ca.crt");
        File.WriteAllText(path, staged.CertificatePem() + File.ReadAllText(path));

        var (code, report, _) = Inspect(dir);
        Assert.Equal(1, code);
        var problems = Problems(report);
        Assert.Contains(problems, p => p.Kind == "keyMismatch" && p.Source.EndsWith("pki/apiserver-etcd-client.crt") && p.Message.Contains("apiserver-etcd-client.key"));
        var order = Assert.Single(problems, p => p.Kind == "bundleOrder");
        Assert.EndsWith("pki/front-proxy-ca.crt", order.Source);
        Assert.Contains("certificate 2 does", order.Message);
    }

    [Fact]
    public void Names_a_kubeconfig_whose_CA_data_is_not_ca_crt()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        var path = Path.Combine(dir, "scheduler.conf");
        var config = Kubeconfig.Parse(File.ReadAllBytes(path), path);
        var other = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3000));
        config.SetCertificateAuthorityData(config.CurrentCluster!.Name, Encoding.ASCII.GetBytes(other.CertificatePem()));
        File.WriteAllBytes(path, config.ToBytes());

        var (code, report, _) = Inspect(dir);
        Assert.Equal(1, code);
        var p = Assert.Single(Problems(report));
        Assert.Equal("kubeconfigCaMismatch", p.Kind);
        Assert.Contains("scheduler.conf", p.Source);
        Assert.Contains("none of its 1 certificate(s)", p.Message);
    }

    [Fact]
    public void Names_key_files_readable_by_others()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        File.SetUnixFileMode(Path.Combine(dir, "pki/etcd/peer.key"), PkiFile.Public);
        File.SetUnixFileMode(Path.Combine(dir, "admin.conf"), PkiFile.Public | UnixFileMode.GroupWrite);

        var (code, report, _) = Inspect(dir);
        Assert.Equal(1, code);
        var problems = Problems(report);
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Equal("keyReadableByOthers", p.Kind));
        Assert.Contains(problems, p => p.Source.EndsWith("pki/etcd/peer.key") && p.Message.Contains("0644") && p.Message.Contains("chmod 600"));
        Assert.Contains(problems, p => p.Source.EndsWith("admin.conf"));
    }

    [Fact]
    public void A_damaged_file_is_reported_not_fatal()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        var path = Path.Combine(dir, "pki/front-proxy-client.crt");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length - 40)]);
        var (code, report, _) = Inspect(dir);
        Assert.Equal(1, code);
        var p = Assert.Single(Problems(report));
        Assert.Equal("unreadable", p.Kind);
        Assert.Contains("front-proxy-client.crt", p.Message);
        Assert.Equal(11, report.GetProperty("certificates").GetArrayLength());
    }

    [Fact]
    public void A_CA_without_its_key_is_externally_managed_not_a_problem()
    {
        using var tmp = new TempDir();
        var dir = NewTree(tmp);
        File.Delete(Path.Combine(dir, "pki/ca.key"));
        var (code, report, _) = Inspect(dir);
        Assert.Equal(0, code);
        var ca = report.GetProperty("certificateAuthorities").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "ca");
        Assert.True(ca.GetProperty("externallyManaged").GetBoolean());
    }

    [Fact]
    public void A_missing_directory_or_one_without_kubeadm_files_is_a_usage_error()
    {
        using var tmp = new TempDir();
        var missing = TestSupport.Cli.Run("pki", "inspect", "--dir", tmp["nope"]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Output);
        var empty = TestSupport.Cli.Run("pki", "inspect", "--dir", tmp.Path);
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("holds no kubeadm certificate", empty.Output);
        Assert.Equal(2, TestSupport.Cli.Run("pki", "inspect", "--dir", tmp.Path, "--warn-within", "soon").ExitCode);
    }
}
