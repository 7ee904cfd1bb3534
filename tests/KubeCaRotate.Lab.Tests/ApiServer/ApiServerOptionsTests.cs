using System.Net;
using KubeCaRotate.Lab.ApiServer;

namespace KubeCaRotate.Lab.Tests.ApiServer;

public sealed class ApiServerOptionsTests
{
    [Fact]
    public void ReadsKubeadmFlagsAndMapsPathsIntoTheNodeRoot()
    {
        var options = ApiServerOptions.Parse(StandInCluster.KubeadmArgs(null), p => "/lab/cp-1" + p);
        Assert.Equal(IPAddress.Loopback, options.AdvertiseAddress);
        Assert.Equal(0, options.SecurePort);
        Assert.Equal("/lab/cp-1/etc/kubernetes/pki/ca.crt", options.ClientCaFile);
        Assert.Equal("/lab/cp-1/etc/kubernetes/pki/apiserver.crt", options.TlsCertFile);
        Assert.Equal("/lab/cp-1/etc/kubernetes/pki/front-proxy-ca.crt", options.RequestHeaderClientCaFile);
        Assert.Equal(["front-proxy-client"], options.RequestHeaderAllowedNames);
        Assert.Equal(["X-Remote-User"], options.RequestHeaderUsernameHeaders);
        Assert.Equal(["/lab/cp-1/etc/kubernetes/pki/sa.pub"], options.ServiceAccountKeyFiles);
        Assert.Equal([StandInCluster.Issuer], options.ServiceAccountIssuers);
        Assert.Equal(["https://127.0.0.1:2379"], options.EtcdServers);
        Assert.Equal("/lab/cp-1/etc/kubernetes/pki/apiserver-etcd-client.key", options.EtcdKeyFile);
        Assert.Contains("--authorization-mode=Node,RBAC", options.IgnoredFlags);
        Assert.Equal(IPAddress.Loopback, options.ListenAddress);
    }

    [Fact]
    public void SeparateValuesRepeatedFlagsAndUnknownFlags()
    {
        var options = ApiServerOptions.Parse(
            ["--secure-port", "7443", "--service-account-key-file=/a", "--service-account-key-file", "/b", "--some-future-flag", "--bind-address=127.0.1.2"],
            p => p);
        Assert.Equal(7443, options.SecurePort);
        Assert.Equal(["/a", "/b"], options.ServiceAccountKeyFiles);
        Assert.Equal(IPAddress.Parse("127.0.1.2"), options.ListenAddress);
        Assert.Contains("--some-future-flag", options.IgnoredFlags);
    }

    [Fact]
    public void BadValuesAreOneSentence()
    {
        var e = Assert.Throws<ArgumentException>(() => ApiServerOptions.Parse(["--secure-port=http"], p => p));
        Assert.Contains("--secure-port", e.Message);
        var nonLoopback = ApiServerOptions.Parse(["--advertise-address=10.0.0.5"], p => p);
        Assert.Contains("loopback", Assert.Throws<ArgumentException>(() => nonLoopback.ListenAddress).Message);
    }
}
