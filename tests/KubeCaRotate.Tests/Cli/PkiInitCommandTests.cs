using KubeCaRotate.Pki;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Cli;

public class PkiInitCommandTests
{
    private static TestSupport.Cli.Result Init(string dir, params string[] more) =>
        TestSupport.Cli.Run(["pki", "init", "--dir", dir, "--node-name", "cp-1", "--advertise-address", "127.0.0.11", "--algorithm", "ECDSA-P256", .. more]);

    private static IEnumerable<string> Tree(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order();

    [Fact]
    public void Writes_kubeadms_tree_with_its_modes_and_every_leaf_verifies_with_openssl()
    {
        using var tmp = new TempDir();
        var dir = tmp["etc-kubernetes"];
        var r = Init(dir, "--control-plane-endpoint", "lb.test:7443", "--cert-sans", "10.9.8.7,api.test");
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Equal(
            new[]
            {
                "admin.conf", "controller-manager.conf", "kubelet.conf",
                "pki/apiserver-etcd-client.crt", "pki/apiserver-etcd-client.key", "pki/apiserver-kubelet-client.crt", "pki/apiserver-kubelet-client.key",
                "pki/apiserver.crt", "pki/apiserver.key", "pki/ca.crt", "pki/ca.key",
                "pki/etcd/ca.crt", "pki/etcd/ca.key", "pki/etcd/healthcheck-client.crt", "pki/etcd/healthcheck-client.key",
                "pki/etcd/peer.crt", "pki/etcd/peer.key", "pki/etcd/server.crt", "pki/etcd/server.key",
                "pki/front-proxy-ca.crt", "pki/front-proxy-ca.key", "pki/front-proxy-client.crt", "pki/front-proxy-client.key",
                "pki/sa.key", "pki/sa.pub", "scheduler.conf", "super-admin.conf",
            }.Order(),
            Tree(dir));
        foreach (var f in Tree(dir))
        {
            var mode = File.GetUnixFileMode(Path.Combine(dir, f));
            var secret = f.EndsWith(".key") || f.EndsWith(".conf") || f == "pki/sa.pub";
            Assert.True(mode == (secret ? PkiFile.Secret : PkiFile.Public), $"{f} has mode {mode}");
        }

        var pki = Path.Combine(dir, "pki");
        foreach (var leaf in KubeadmCatalog.Leaves)
        {
            foreach (var ca in KubeadmCatalog.CertificateAuthorities)
            {
                var v = ExternalTool.Run("openssl", "verify", "-CAfile", Path.Combine(pki, ca.CertFile), Path.Combine(pki, leaf.CertFile));
                Assert.True((v.ExitCode == 0) == (ca.Kind == leaf.Ca), $"{leaf.Name} against {ca.Name}: {v.All}");
            }
        }
        var api = ExternalTool.Ok("openssl", "x509", "-noout", "-text", "-in", Path.Combine(pki, "apiserver.crt"));
        foreach (var san in new[] { "DNS:kubernetes.default.svc.cluster.local", "IP Address:10.96.0.1", "IP Address:127.0.0.11", "IP Address:10.9.8.7", "DNS:api.test", "DNS:lb.test" })
            Assert.Contains(san, api);
    }

    [Fact]
    public void Every_kubeconfig_is_read_by_kubectl()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, Init(tmp.Path, "--control-plane-endpoint", "lb.test:7443").ExitCode);
        var caPem = File.ReadAllText(tmp["pki/ca.crt"]);
        foreach (var conf in new[] { "admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf" })
        {
            var json = ExternalTool.Ok("kubectl", "--kubeconfig", tmp[conf], "config", "view", "--raw", "-o", "json");
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            var cluster = doc.RootElement.GetProperty("clusters")[0].GetProperty("cluster");
            var ca = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(cluster.GetProperty("certificate-authority-data").GetString()!));
            Assert.Equal(caPem, ca);
            var server = cluster.GetProperty("server").GetString();
            Assert.Equal(conf is "controller-manager.conf" or "scheduler.conf" ? "https://127.0.0.11:6443" : "https://lb.test:7443", server);
            var user = doc.RootElement.GetProperty("users")[0].GetProperty("user");
            var certPem = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(user.GetProperty("client-certificate-data").GetString()!));
            var keyPem = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(user.GetProperty("client-key-data").GetString()!));
            using var key = PrivateKey.FromPem(keyPem, conf);
            Assert.True(key.Matches(PemBundle.Parse(certPem, conf).First!), conf);
        }
    }

    [Fact]
    public void A_joining_node_reuses_the_CAs_and_gets_its_own_leaves()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, Init(tmp["cp-1"]).ExitCode);
        var r = TestSupport.Cli.Run("pki", "init", "--dir", tmp["cp-2"], "--node-name", "cp-2", "--advertise-address", "127.0.0.12", "--algorithm", "ECDSA-P256", "--ca-dir", tmp["cp-1/pki"]);
        Assert.True(r.ExitCode == 0, r.Output);
        foreach (var shared in new[] { "pki/ca.crt", "pki/ca.key", "pki/front-proxy-ca.crt", "pki/etcd/ca.key", "pki/sa.key", "pki/sa.pub" })
            Assert.Equal(File.ReadAllBytes(tmp["cp-1/" + shared]), File.ReadAllBytes(tmp["cp-2/" + shared]));
        Assert.NotEqual(File.ReadAllBytes(tmp["cp-1/pki/apiserver.crt"]), File.ReadAllBytes(tmp["cp-2/pki/apiserver.crt"]));
        ExternalTool.Ok("openssl", "verify", "-CAfile", tmp["cp-1/pki/etcd/ca.crt"], tmp["cp-2/pki/etcd/peer.crt"]);
        Assert.Contains("CN=cp-2", ExternalTool.Ok("openssl", "x509", "-noout", "-subject", "-in", tmp["cp-2/pki/etcd/peer.crt"]).Replace(" ", ""));
        Assert.False(File.Exists(tmp["cp-2/super-admin.conf"]), "super-admin.conf is written only on the init node");
    }

    [Fact]
    public void Refuses_to_overwrite_unless_forced_and_then_writes_nothing()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, Init(tmp.Path).ExitCode);
        var before = File.ReadAllBytes(tmp["pki/ca.crt"]);
        File.Delete(tmp["pki/apiserver.crt"]);
        var again = Init(tmp.Path);
        Assert.Equal(3, again.ExitCode);
        Assert.Contains("--force", again.Output);
        Assert.Equal(before, File.ReadAllBytes(tmp["pki/ca.crt"]));
        Assert.False(File.Exists(tmp["pki/apiserver.crt"]), "nothing may be written when the run is refused");
        Assert.Equal(0, Init(tmp.Path, "--force").ExitCode);
        Assert.NotEqual(before, File.ReadAllBytes(tmp["pki/ca.crt"]));
    }

    public static TheoryData<string, string, string> BadCaDirs => new()
    {
        // file to damage, how, words the error must contain
        { "ca.crt", "truncate", "truncated" },
        { "front-proxy-ca.key", "wrong-type", "P-256 or P-384" },
        { "etcd/ca.key", "delete", "external-CA" },
        { "ca.key", "other-key", "does not belong" },
    };

    [Theory]
    [MemberData(nameof(BadCaDirs))]
    public void Bad_ca_dir_input_is_one_clear_sentence_and_writes_nothing(string file, string damage, string words)
    {
        using var tmp = new TempDir();
        Assert.Equal(0, Init(tmp["cp-1"]).ExitCode);
        var path = tmp["cp-1/pki/" + file];
        switch (damage)
        {
            case "truncate":
                var text = File.ReadAllText(path);
                File.WriteAllText(path, text[..(text.Length / 2)]);
                break;
            case "wrong-type":
                using (var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP521))
                    File.WriteAllText(path, System.Security.Cryptography.PemEncoding.WriteString("EC PRIVATE KEY", ec.ExportECPrivateKey()));
                break;
            case "delete":
                File.Delete(path);
                break;
            case "other-key":
                File.WriteAllText(path, PrivateKey.Generate(KeyAlgorithm.EcdsaP256).ToPem());
                break;
        }
        var r = TestSupport.Cli.Run("pki", "init", "--dir", tmp["cp-2"], "--node-name", "cp-2", "--advertise-address", "127.0.0.12", "--ca-dir", tmp["cp-1/pki"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(file, r.Output);
        Assert.Contains(words, r.Output);
        Assert.False(Directory.Exists(tmp["cp-2"]) && Directory.EnumerateFileSystemEntries(tmp["cp-2"]).Any(), "nothing may be written");
    }

    [Theory]
    [InlineData("--node-name", "Not_A_Name", "--node-name")]
    [InlineData("--advertise-address", "300.1.1.1", "--advertise-address")]
    [InlineData("--algorithm", "DSA-1024", "--algorithm")]
    public void Bad_options_are_usage_errors(string option, string value, string named)
    {
        using var tmp = new TempDir();
        var args = new List<string> { "pki", "init", "--dir", tmp.Path, "--node-name", "cp-1", "--advertise-address", "127.0.0.11" };
        var i = args.IndexOf(option);
        if (i >= 0) args[i + 1] = value;
        else args.AddRange([option, value]);
        var r = TestSupport.Cli.Run([.. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(named, r.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [Fact]
    public void A_ca_dir_that_does_not_exist_is_named_and_nothing_is_written()
    {
        using var tmp = new TempDir();
        var r = TestSupport.Cli.Run("pki", "init", "--dir", tmp["cp-2"], "--node-name", "cp-2", "--advertise-address", "127.0.0.12", "--ca-dir", tmp["no-such-pki"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(tmp["no-such-pki"], r.Output);
        Assert.Contains("does not exist", r.Output);
        Assert.False(Directory.Exists(tmp["cp-2"]));
    }
}
