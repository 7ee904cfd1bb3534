using System.Diagnostics;
using System.Text;
using System.Text.Json;
using KubeCaRotate.Layout;

namespace KubeCaRotate.Tests.Layout;

public sealed class KubeconfigTests
{
    private const string MultiCluster = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: Y2EtMQ==
            server: https://10.0.0.1:6443
            extensions:
            - name: client.authentication.k8s.io/exec
              extension: {audience: x}
          name: one
        - cluster:
            certificate-authority: /etc/kubernetes/pki/ca.crt
            server: https://10.0.0.2:6443
          name: two
        contexts:
        - context:
            cluster: one
            user: alice
            namespace: team
          name: alice@one
        - context:
            cluster: two
            user: bob
          name: bob@two
        current-context: bob@two
        kind: Config
        preferences: {}
        users:
        - name: alice
          user:
            client-certificate-data: Y2VydA==
            client-key-data: a2V5
        - name: bob
          user:
            token: abc.def
        unknown-top-level: keep-me
        """;

    [Fact]
    public void ReadsClustersUsersContextsAndTheCurrentOnes()
    {
        var config = Kubeconfig.Parse(MultiCluster, "multi.conf");

        Assert.Equal(["one", "two"], config.Clusters.Select(c => c.Name));
        Assert.Equal("ca-1", Encoding.ASCII.GetString(config.Clusters[0].CertificateAuthorityData!));
        Assert.Equal("/etc/kubernetes/pki/ca.crt", config.Clusters[1].CertificateAuthority);
        Assert.Equal("cert", Encoding.ASCII.GetString(config.GetUser("alice")!.ClientCertificateData!));
        Assert.Equal("key", Encoding.ASCII.GetString(config.GetUser("alice")!.ClientKeyData!));
        Assert.Equal("abc.def", config.GetUser("bob")!.Token);
        Assert.DoesNotContain("abc.def", config.GetUser("bob")!.ToString());
        Assert.Equal("team", config.GetContext("alice@one")!.Namespace);
        Assert.Equal("bob@two", config.CurrentContext);
        Assert.Equal("two", config.CurrentCluster!.Name);
        Assert.Equal("bob", config.CurrentUser!.Name);
    }

    [Fact]
    public void SettingOneFieldKeepsEverythingElse()
    {
        var config = Kubeconfig.Parse(MultiCluster, "multi.conf");
        var newCa = Encoding.ASCII.GetBytes("new-ca");

        Assert.True(config.SetCertificateAuthorityData("two", newCa));
        var reread = Kubeconfig.Parse(config.ToYaml());

        Assert.Equal("new-ca", Encoding.ASCII.GetString(reread.GetCluster("two")!.CertificateAuthorityData!));
        Assert.Null(reread.GetCluster("two")!.CertificateAuthority);
        Assert.Equal("https://10.0.0.2:6443", reread.GetCluster("two")!.Server);
        Assert.Equal("ca-1", Encoding.ASCII.GetString(reread.GetCluster("one")!.CertificateAuthorityData!));
        Assert.Equal("abc.def", reread.GetUser("bob")!.Token);
        Assert.Equal("team", reread.GetContext("alice@one")!.Namespace);
        Assert.Equal("bob@two", reread.CurrentContext);
        Assert.Contains("unknown-top-level: keep-me", reread.ToYaml());
        Assert.Contains("audience: x", reread.ToYaml());
    }

    [Fact]
    public void SettingTheSameValueLeavesTheTextByteIdentical()
    {
        var config = Kubeconfig.Parse(MultiCluster);

        Assert.False(config.SetServer("one", "https://10.0.0.1:6443"));
        Assert.False(config.SetCertificateAuthorityData("one", Encoding.ASCII.GetBytes("ca-1")));
        config.CurrentContext = "bob@two";

        Assert.False(config.IsChanged);
        Assert.Equal(MultiCluster, config.ToYaml());
    }

    [Fact]
    public void ClientCredentialsSwitchBetweenEmbeddedAndPaths()
    {
        var config = Kubeconfig.Parse(MultiCluster);
        const string pem = "/var/lib/kubelet/pki/kubelet-client-current.pem";

        config.SetClientCertificatePaths("alice", pem, pem);
        var user = Kubeconfig.Parse(config.ToYaml()).GetUser("alice")!;
        Assert.Equal(pem, user.ClientCertificate);
        Assert.Equal(pem, user.ClientKey);
        Assert.Null(user.ClientCertificateData);
        Assert.Null(user.ClientKeyData);

        config.SetClientCertificateData("alice", [1, 2], [3, 4]);
        user = Kubeconfig.Parse(config.ToYaml()).GetUser("alice")!;
        Assert.Equal([1, 2], user.ClientCertificateData);
        Assert.Equal([3, 4], user.ClientKeyData);
        Assert.Null(user.ClientCertificate);
        Assert.Null(user.ClientKey);
    }

    [Fact]
    public void CreateWritesKubeadmsLayout()
    {
        var (ca, _) = TestCertificates.SelfSigned("kubernetes", isCa: true);
        var (cert, key) = TestCertificates.SelfSigned("kubernetes-admin");

        var config = Kubeconfig.Create("kubernetes", "https://127.0.0.11:16443", ca, "kubernetes-admin", cert, key);

        var expected = $"""
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: {Convert.ToBase64String(ca)}
                server: https://127.0.0.11:16443
              name: kubernetes
            contexts:
            - context:
                cluster: kubernetes
                user: kubernetes-admin
              name: kubernetes-admin@kubernetes
            current-context: kubernetes-admin@kubernetes
            kind: Config
            preferences: {"{}"}
            users:
            - name: kubernetes-admin
              user:
                client-certificate-data: {Convert.ToBase64String(cert)}
                client-key-data: {Convert.ToBase64String(key)}

            """;
        Assert.Equal(expected, config.ToYaml());
        Assert.Equal("kubernetes", config.CurrentCluster!.Name);
        Assert.Equal(ca, config.CurrentCluster.CertificateAuthorityData);
        Assert.Equal(key, config.CurrentUser!.ClientKeyData);
    }

    [Fact]
    public async Task KubectlReadsAWrittenKubeconfigAndTheCaRoundTrips()
    {
        var (ca, _) = TestCertificates.SelfSigned("kubernetes", isCa: true);
        var (newCa, _) = TestCertificates.SelfSigned("kubernetes-new", isCa: true);
        var (cert, key) = TestCertificates.SelfSigned("kubernetes-admin");
        var config = Kubeconfig.Create("kubernetes", "https://127.0.0.11:16443", ca, "kubernetes-admin", cert, key);

        // An old+new bundle, as during a rotation.
        config.SetCertificateAuthorityData("kubernetes", [.. ca, .. newCa]);
        var file = Path.Combine(Directory.CreateTempSubdirectory("kcr-kubeconfig-").FullName, "admin.conf");
        await File.WriteAllBytesAsync(file, config.ToBytes());
        try
        {
            var json = await RunKubectl("--kubeconfig", file, "config", "view", "--raw", "-o", "json");
            using var document = JsonDocument.Parse(json);
            var cluster = document.RootElement.GetProperty("clusters")[0];
            Assert.Equal("kubernetes", cluster.GetProperty("name").GetString());
            Assert.Equal("https://127.0.0.11:16443", cluster.GetProperty("cluster").GetProperty("server").GetString());
            var caData = Convert.FromBase64String(cluster.GetProperty("cluster").GetProperty("certificate-authority-data").GetString()!);
            Assert.Equal([.. ca, .. newCa], caData);
            var user = document.RootElement.GetProperty("users")[0].GetProperty("user");
            Assert.Equal(key, Convert.FromBase64String(user.GetProperty("client-key-data").GetString()!));
            Assert.Equal("kubernetes-admin@kubernetes", document.RootElement.GetProperty("current-context").GetString());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "its kind is 'Pod'")]
    [InlineData("just: a map\n", "no clusters, users or contexts")]
    [InlineData("- a\n- list\n", "one YAML mapping")]
    [InlineData("clusters: [\n", "not valid YAML")]
    [InlineData("clusters:\n- cluster: {server: x}\n", "has no name")]
    [InlineData("users:\n- name: u\n  user: {client-key-data: '***'}\n", "not valid base64")]
    public void NotAKubeconfigIsOneClearSentenceNamingTheFile(string yaml, string problem)
    {
        var error = Assert.Throws<LayoutFormatException>(() => Kubeconfig.Parse(yaml, "/etc/kubernetes/admin.conf"));
        Assert.Contains("/etc/kubernetes/admin.conf", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Equal("/etc/kubernetes/admin.conf", error.SourceName);
    }

    [Fact]
    public void EditingAnUnknownClusterSaysWhichOnesExist()
    {
        var config = Kubeconfig.Parse(MultiCluster, "multi.conf");
        var error = Assert.Throws<KeyNotFoundException>(() => config.SetServer("three", "https://x"));
        Assert.Contains("one, two", error.Message);
    }

    private static async Task<string> RunKubectl(params string[] arguments)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kubectl failed: {await error}");
        return await output;
    }
}
