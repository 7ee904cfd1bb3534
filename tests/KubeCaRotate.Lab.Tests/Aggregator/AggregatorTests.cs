using System.Net;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Tests.ControllerManager;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Aggregator;

[Collection("workload lab")]
public sealed class AggregatorTests(WorkloadLab fixture)
{
    private Uri Direct => new($"https://127.0.0.1:{File.ReadAllText(AggregatorFiles.For(fixture.Lab).PortFile).Trim()}/apis/metrics.lab.example/v1beta1");

    private IReadOnlyList<X509Certificate2> ServingCa => PemBundle.Parse(File.ReadAllText(AggregatorFiles.For(fixture.Lab).ServingCaCert), "serving-ca.crt").Certificates;

    [Fact]
    public async Task KubectlReachesTheAggregatedApiThroughTheApiServer()
    {
        await WaitForAggregatorAsync();
        var run = await fixture.KubectlAsync("get", "--raw", "/apis/metrics.lab.example/v1beta1");
        run.EnsureSuccess();
        Assert.Contains("\"groupVersion\":\"metrics.lab.example/v1beta1\"", run.Stdout);
        var nodes = (await fixture.KubectlAsync("get", "--raw", "/apis/metrics.lab.example/v1beta1/nodes")).EnsureSuccess();
        Assert.Contains("\"name\":\"cp-1\"", nodes.Stdout);

        // The aggregated server saw the admin as the user the front proxy vouched for.
        using var admin = LabClients.FromKubeconfig(fixture.Lab.AdminKubeconfig, TimeSpan.FromSeconds(30));
        using var response = await admin.GetAsync(new Uri(fixture.Lab.EndpointUrl + "/apis/metrics.lab.example/v1beta1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kubernetes-admin", response.Headers.GetValues(AggregatedApiServer.UserHeader).Single());
    }

    [Fact]
    public async Task FrontProxyCertificateFromAForeignCaIsRefused()
    {
        var cp = fixture.Lab.ControlPlanes.First();
        var realPair = X509Certificate2.CreateFromPemFile(fixture.NodeFile(cp, "/etc/kubernetes/pki/front-proxy-client.crt"), fixture.NodeFile(cp, "/etc/kubernetes/pki/front-proxy-client.key"));
        var foreignCa = CertificateIssuer.System.NewCertificateAuthority(new CaProfile(CaKind.FrontProxy, "foreign", "foreign", "front-proxy-ca", "foreign"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        using var foreignKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var foreignCert = CertificateIssuer.System.Sign(CertificateTemplate.ForLeaf("front-proxy-client", [], [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None), foreignKey, foreignCa, TimeSpan.FromDays(1));
        var foreignPair = X509Certificate2.CreateFromPem(foreignCert.ExportCertificatePem(), foreignKey.ToPem());

        await WaitForAggregatorAsync();
        Assert.Equal(HttpStatusCode.OK, await DirectAsync(realPair, "alice"));
        Assert.Equal(HttpStatusCode.Unauthorized, await DirectAsync(foreignPair, "alice"));
        Assert.Equal(HttpStatusCode.Unauthorized, await DirectAsync(null, "alice"));
    }

    [Fact]
    public async Task ApiServerRereadsItsProxyClientCertificate()
    {
        // Point one API server's front-proxy client files at a foreign pair: the aggregated server refuses what it proxies; restore, and it accepts again.
        var cp = fixture.Lab.ControlPlanes.First();
        var certFile = fixture.NodeFile(cp, "/etc/kubernetes/pki/front-proxy-client.crt");
        var keyFile = fixture.NodeFile(cp, "/etc/kubernetes/pki/front-proxy-client.key");
        var (cert, key) = (await File.ReadAllTextAsync(certFile), await File.ReadAllTextAsync(keyFile));
        var foreignCa = CertificateIssuer.System.NewCertificateAuthority(new CaProfile(CaKind.FrontProxy, "foreign", "foreign", "front-proxy-ca", "foreign"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        using var foreignKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var foreignCert = CertificateIssuer.System.Sign(CertificateTemplate.ForLeaf("front-proxy-client", [], [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None), foreignKey, foreignCa, TimeSpan.FromDays(1));
        var direct = new Uri(cp.ApiServerUrl + "/apis/metrics.lab.example/v1beta1");
        using var admin = LabClients.FromKubeconfig(fixture.Lab.AdminKubeconfig, TimeSpan.FromSeconds(30));
        await WaitForAggregatorAsync();
        try
        {
            await File.WriteAllTextAsync(keyFile, foreignKey.ToPem());
            await File.WriteAllTextAsync(certFile, foreignCert.ExportCertificatePem() + "\n");
            await WorkloadLab.EventuallyAsync(async () => (await admin.GetAsync(direct)).StatusCode == HttpStatusCode.Unauthorized, "the aggregated server refuses the foreign front proxy", 30);
        }
        finally
        {
            await File.WriteAllTextAsync(keyFile, key);
            await File.WriteAllTextAsync(certFile, cert);
        }
        await WorkloadLab.EventuallyAsync(async () => (await admin.GetAsync(direct)).StatusCode == HttpStatusCode.OK, "the restored front-proxy client is accepted", 30);
    }

    /// <summary>The aggregated server starts after `lab up` has seeded the cluster: wait until it answers its health check.</summary>
    private async Task WaitForAggregatorAsync()
    {
        using var client = LabClients.Create(ServingCa, null, TimeSpan.FromSeconds(5));
        await WorkloadLab.EventuallyAsync(async () =>
        {
            try
            {
                return (await client.GetAsync(new Uri(Direct, "/healthz"))).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the aggregated API server answers /healthz", 60);
    }

    private async Task<HttpStatusCode> DirectAsync(X509Certificate2? identity, string user)
    {
        using var client = LabClients.Create(ServingCa, identity, TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, Direct);
        request.Headers.Host = AggregatorFiles.ServiceDnsName;
        request.Headers.Add("X-Remote-User", user);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
