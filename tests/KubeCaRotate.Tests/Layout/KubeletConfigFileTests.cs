using KubeCaRotate.Layout;

namespace KubeCaRotate.Tests.Layout;

public sealed class KubeletConfigFileTests
{
    [Fact]
    public void CreateWritesKubeadmsKubeletConfiguration()
    {
        var config = KubeletConfigFile.Create(new KubeletConfigSpec { ServiceCidr = "10.112.0.0/12", Address = "127.0.0.21", Port = 20250, HealthzPort = 20248 });
        var text = config.ToYaml();

        Assert.Equal("/etc/kubernetes/pki/ca.crt", config.ClientCAFile);
        Assert.Equal("/etc/kubernetes/manifests", config.StaticPodPath);
        Assert.True(config.RotateCertificates);
        Assert.Equal("127.0.0.21", config.Address);
        Assert.Equal(20250, config.Port);
        Assert.Equal(20248, config.HealthzPort);
        Assert.Null(config.TlsCertFile);
        Assert.Contains("apiVersion: kubelet.config.k8s.io/v1beta1\n", text);
        Assert.Contains("kind: KubeletConfiguration\n", text);
        Assert.Contains("  anonymous:\n    enabled: false\n", text);
        Assert.Contains("  webhook:\n    cacheTTL: 0s\n    enabled: true\n", text);
        Assert.Contains("authorization:\n  mode: Webhook\n", text);
        Assert.Contains("clusterDNS:\n- 10.112.0.10\n", text);
        Assert.Contains("clusterDomain: cluster.local\n", text);
        Assert.Contains("infoBufferSize: \"0\"", text);
    }

    [Fact]
    public void DefaultsLeaveAddressAndPortToTheKubelet()
    {
        var config = KubeletConfigFile.Create(new KubeletConfigSpec());
        Assert.Null(config.Address);
        Assert.Null(config.Port);
        Assert.Equal(10248, config.HealthzPort);
        Assert.Contains("clusterDNS:\n- 10.96.0.10\n", config.ToYaml());
    }

    [Fact]
    public void SettersChangeOnlyTheirFieldAndSameValuesChangeNothing()
    {
        var original = KubeletConfigFile.Create(new KubeletConfigSpec()).ToYaml() + "featureGates:\n  SomeGate: true\n";
        var config = KubeletConfigFile.Parse(original, "/var/lib/kubelet/config.yaml");

        config.ClientCAFile = "/etc/kubernetes/pki/ca.crt";
        config.RotateCertificates = true;
        config.StaticPodPath = "/etc/kubernetes/manifests";
        config.TlsCertFile = null;
        Assert.False(config.IsChanged);
        Assert.Equal(original, config.ToYaml());

        config.ClientCAFile = "/etc/kubernetes/pki/ca-bundle.crt";
        config.TlsCertFile = "/var/lib/kubelet/pki/kubelet.crt";
        config.TlsPrivateKeyFile = "/var/lib/kubelet/pki/kubelet.key";
        config.Port = 20250;
        config.RotateCertificates = false;

        var reread = KubeletConfigFile.Parse(config.ToYaml());
        Assert.Equal("/etc/kubernetes/pki/ca-bundle.crt", reread.ClientCAFile);
        Assert.Equal("/var/lib/kubelet/pki/kubelet.crt", reread.TlsCertFile);
        Assert.Equal("/var/lib/kubelet/pki/kubelet.key", reread.TlsPrivateKeyFile);
        Assert.Equal(20250, reread.Port);
        Assert.False(reread.RotateCertificates);
        Assert.Contains("featureGates:\n  SomeGate: true\n", reread.ToYaml());
        Assert.Equal("0s", reread.GetField("fileCheckFrequency"));

        var originalLines = original.Split('\n').ToHashSet();
        var changedLines = reread.ToYaml().Split('\n').Where(line => !originalLines.Contains(line)).ToList();
        Assert.Equal(5, changedLines.Count);

        reread.Port = null;
        Assert.Null(KubeletConfigFile.Parse(reread.ToYaml()).Port);
    }

    [Fact]
    public void SettingTheClientCaCreatesTheSectionWhenAbsent()
    {
        var config = KubeletConfigFile.Parse("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n");
        config.ClientCAFile = "/etc/kubernetes/pki/ca.crt";
        Assert.Equal("/etc/kubernetes/pki/ca.crt", KubeletConfigFile.Parse(config.ToYaml()).ClientCAFile);
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: Config\n", "not a KubeletConfiguration")]
    [InlineData("kind: KubeletConfiguration\nport: [\n", "not valid YAML")]
    public void NotAKubeletConfigIsOneClearSentenceNamingTheFile(string yaml, string problem)
    {
        var error = Assert.Throws<LayoutFormatException>(() => KubeletConfigFile.Parse(yaml, "/var/lib/kubelet/config.yaml"));
        Assert.Contains("/var/lib/kubelet/config.yaml", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void ABadValueNamesTheField()
    {
        var config = KubeletConfigFile.Parse("kind: KubeletConfiguration\nport: tenthousand\n", "config.yaml");
        var error = Assert.Throws<LayoutFormatException>(() => config.Port);
        Assert.Contains("'port'", error.Message);
    }
}
