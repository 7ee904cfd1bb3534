using KubeCaRotate.Layout;

namespace KubeCaRotate.Tests.Layout;

public sealed class KubeadmPathsTests
{
    [Fact]
    public void DefaultsAreKubeadms()
    {
        var paths = KubeadmPaths.Default;
        Assert.Equal("/etc/kubernetes/pki/ca.crt", paths.CaCert);
        Assert.Equal("/etc/kubernetes/pki/etcd/ca.key", paths.EtcdCaKey);
        Assert.Equal("/etc/kubernetes/manifests/kube-apiserver.yaml", paths.ApiServerManifest);
        Assert.Equal("/etc/kubernetes/admin.conf", paths.AdminConf);
        Assert.Equal("/var/lib/kubelet/config.yaml", paths.KubeletConfigFile);
        Assert.Equal("/var/lib/kubelet/pki/kubelet-client-current.pem", paths.KubeletClientCurrent);
        Assert.Equal("/var/lib/kubelet/pki/kubelet.crt", paths.KubeletServingCert);
        Assert.Equal("/var/lib/kubelet/pki/kubelet-client-2024-05-01-10-00-00.pem",
            paths.KubeletClientDated(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero)));
        Assert.Equal(4, paths.StaticPodManifests.Count);
    }

    [Fact]
    public void CertificatesDirMovesOnlyThePki()
    {
        var paths = KubeadmPaths.WithCertificatesDir("/srv/pki");
        Assert.Equal("/srv/pki/front-proxy-ca.crt", paths.FrontProxyCaCert);
        Assert.Equal("/srv/pki/etcd", paths.EtcdPkiDir);
        Assert.Equal("/etc/kubernetes/scheduler.conf", paths.SchedulerConf);
    }

    [Theory]
    [InlineData("10.96.0.0/12", "10.96.0.10", "10.96.0.1")]
    [InlineData("10.112.0.0/12,fd00::/108", "10.112.0.10", "10.112.0.1")]
    [InlineData("fd00:10::/108", "fd00:10::a", "fd00:10::1")]
    public void ServiceAddressesComeFromTheCidr(string cidr, string dns, string apiServer)
    {
        Assert.Equal(dns, ServiceNetwork.ClusterDnsAddress(cidr));
        Assert.Equal(apiServer, ServiceNetwork.ApiServerServiceAddress(cidr));
    }
}
