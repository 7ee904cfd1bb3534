using System.Net;
using KubeCaRotate.Pki;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Pki;

/// <summary>What kubeadm would write, checked with the real openssl.</summary>
public class NodePkiTests
{
    private static readonly ClusterPkiSpec Cluster = new()
    {
        ControlPlaneEndpoint = "cp.example.test:7443",
        ApiServerCertSans = ["10.1.2.3", "api.example.test", "not a name!"],
        DnsDomain = "corp.local",
        ServiceSubnet = "10.100.0.0/16",
    };

    private static readonly NodePkiSpec Node = new("cp-1", IPAddress.Parse("127.0.0.11"), 6443);

    private static string Write(TempDir dir, NodePki pki)
    {
        foreach (var f in pki.Files())
        {
            var path = dir["pki/" + f.RelativePath];
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, f.Content);
        }
        return dir["pki"];
    }

    [Theory]
    [InlineData(KeyAlgorithm.Rsa2048)]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    public void Every_leaf_verifies_against_its_own_CA_only(KeyAlgorithm algorithm)
    {
        using var dir = new TempDir();
        var cluster = Cluster with { Algorithm = algorithm };
        var shared = SharedPki.Create(CertificateIssuer.System, algorithm, cluster.CaCertificateValidity);
        var pki = Write(dir, NodePki.Issue(new PkiContext(cluster, Node), shared, CertificateIssuer.System, initNode: true));
        foreach (var leaf in KubeadmCatalog.Leaves)
        {
            foreach (var ca in KubeadmCatalog.CertificateAuthorities)
            {
                var r = ExternalTool.Run("openssl", "verify", "-CAfile", Path.Combine(pki, ca.CertFile), Path.Combine(pki, leaf.CertFile));
                if (ca.Kind == leaf.Ca) Assert.True(r.ExitCode == 0, $"{leaf.Name} should verify against {ca.Name}: {r.All}");
                else Assert.True(r.ExitCode != 0, $"{leaf.Name} must not verify against {ca.Name}");
            }
            var certPub = ExternalTool.Ok("openssl", "x509", "-noout", "-pubkey", "-in", Path.Combine(pki, leaf.CertFile));
            var keyPub = ExternalTool.Ok("openssl", "pkey", "-pubout", "-in", Path.Combine(pki, leaf.KeyFile));
            Assert.Equal(certPub, keyPub);
        }
        var saPub = ExternalTool.Ok("openssl", "pkey", "-pubout", "-in", Path.Combine(pki, "sa.key"));
        Assert.Equal(File.ReadAllText(Path.Combine(pki, "sa.pub")), saPub);
        var keyText = File.ReadAllText(Path.Combine(pki, "apiserver.key"));
        Assert.StartsWith(algorithm == KeyAlgorithm.Rsa2048 ? "-----BEGIN RSA PRIVATE KEY-----" : "-----BEGIN EC PRIVATE KEY-----", keyText);
    }

    [Fact]
    public void Openssl_shows_the_reference_subjects_sans_and_usages()
    {
        using var dir = new TempDir();
        var shared = SharedPki.Create(CertificateIssuer.System, KeyAlgorithm.EcdsaP256, Cluster.CaCertificateValidity);
        var pki = Write(dir, NodePki.Issue(new PkiContext(Cluster, Node), shared, CertificateIssuer.System, initNode: true));
        string Text(string file) => ExternalTool.Ok("openssl", "x509", "-noout", "-text", "-nameopt", "RFC2253", "-in", Path.Combine(pki, file));

        var api = Text("apiserver.crt");
        Assert.Contains("Subject: CN=kube-apiserver", api);
        Assert.Contains("Issuer: CN=kubernetes", api);
        Assert.Contains("TLS Web Server Authentication", api);
        Assert.DoesNotContain("TLS Web Client Authentication", api);
        foreach (var san in new[] { "DNS:cp-1", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.corp.local", "DNS:cp.example.test", "DNS:api.example.test", "IP Address:10.100.0.1", "IP Address:127.0.0.11", "IP Address:10.1.2.3" })
            Assert.Contains(san, api);
        Assert.DoesNotContain("not a name", api);

        var kubeletClient = Text("apiserver-kubelet-client.crt");
        Assert.Contains("Subject: CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins", kubeletClient);
        Assert.Contains("TLS Web Client Authentication", kubeletClient);

        var etcdServer = Text("etcd/server.crt");
        Assert.Contains("Subject: CN=cp-1", etcdServer);
        Assert.Contains("Issuer: CN=etcd-ca", etcdServer);
        Assert.Contains("TLS Web Server Authentication, TLS Web Client Authentication", etcdServer);
        foreach (var san in new[] { "DNS:cp-1", "DNS:localhost", "IP Address:127.0.0.11", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1" })
            Assert.Contains(san, etcdServer);

        Assert.Contains("Subject: CN=kube-etcd-healthcheck-client", Text("etcd/healthcheck-client.crt"));
        Assert.DoesNotContain("O=", Text("apiserver-etcd-client.crt").Split('\n').First(l => l.Contains("Subject:")));
        Assert.Contains("Subject: CN=front-proxy-client", Text("front-proxy-client.crt"));
        Assert.Contains("Issuer: CN=front-proxy-ca", Text("front-proxy-client.crt"));

        var ca = Text("ca.crt");
        Assert.Contains("CA:TRUE", ca);
        Assert.Contains("Certificate Sign", ca);
        Assert.Contains("DNS:kubernetes", ca);
    }

    [Fact]
    public void The_before_129_profile_uses_system_masters()
    {
        var cluster = Cluster with { Profile = KubeadmVersionProfile.Before129 };
        var shared = SharedPki.Create(CertificateIssuer.System, KeyAlgorithm.EcdsaP256, cluster.CaCertificateValidity);
        var pki = NodePki.Issue(new PkiContext(cluster, Node), shared, CertificateIssuer.System, initNode: true);
        string[] Orgs(LeafProfile p) => CertificateFacts.Organizations(pki.Leaves.Single(l => l.Profile == p).Issued.Certificate).ToArray();
        Assert.Equal(["system:masters"], Orgs(KubeadmCatalog.ApiServerKubeletClient));
        Assert.Equal(["system:masters"], Orgs(KubeadmCatalog.ApiServerEtcdClient));
        Assert.Equal(["system:masters"], Orgs(KubeadmCatalog.EtcdHealthcheckClient));
        Assert.DoesNotContain(pki.Kubeconfigs, k => k.Profile == KubeadmCatalog.SuperAdmin);
        Assert.Equal(["system:masters"], CertificateFacts.Organizations(pki.Kubeconfigs.Single(k => k.Profile == KubeadmCatalog.Admin).Client.Certificate));
    }

    [Fact]
    public void Kubeconfig_identities_follow_kubeadm()
    {
        var shared = SharedPki.Create(CertificateIssuer.System, KeyAlgorithm.EcdsaP256, Cluster.CaCertificateValidity);
        var initPki = NodePki.Issue(new PkiContext(Cluster, Node), shared, CertificateIssuer.System, initNode: true);
        var joinPki = NodePki.Issue(new PkiContext(Cluster, Node with { Name = "cp-2" }), shared, CertificateIssuer.System, initNode: false);
        Assert.Contains(initPki.Kubeconfigs, k => k.Profile == KubeadmCatalog.SuperAdmin);
        Assert.DoesNotContain(joinPki.Kubeconfigs, k => k.Profile == KubeadmCatalog.SuperAdmin);
        var kubelet = joinPki.Kubeconfigs.Single(k => k.Profile == KubeadmCatalog.Kubelet);
        Assert.Equal("system:node:cp-2", CertificateFacts.CommonName(kubelet.Client.Certificate));
        Assert.Equal(["system:nodes"], CertificateFacts.Organizations(kubelet.Client.Certificate));
        Assert.Equal("https://cp.example.test:7443", kubelet.Server);
        Assert.Equal("https://127.0.0.11:6443", joinPki.Kubeconfigs.Single(k => k.Profile == KubeadmCatalog.Scheduler).Server);
        Assert.All(initPki.Kubeconfigs, k => Assert.True(CertificateFacts.ChainsTo(k.Client.Certificate, [shared.Cluster.Certificate], DateTimeOffset.UtcNow)));
    }
}
