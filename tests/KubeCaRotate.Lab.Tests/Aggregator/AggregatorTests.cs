using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Tests.ControllerManager;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Aggregator;

[Collection("workload lab")]
public sealed class AggregatorTests(WorkloadLab fixture)
{
    private Uri _direct = null!;

    /// <summary>The first address of the Service's Endpoints, as the kubelet published it for the running pod.</summary>
    private Uri Direct => _direct;

    /// <summary>The APIService's caBundle: what the API server trusts for the aggregated server.</summary>
    private IReadOnlyList<X509Certificate2> ServingCa
    {
        get
        {
            var apiService = fixture.Admin.GetAsync($"/apis/apiregistration.k8s.io/v1/apiservices/{AggregatorNames.ApiServiceName}", CancellationToken.None).GetAwaiter().GetResult();
            return PemBundle.Parse(Encoding.ASCII.GetString(Convert.FromBase64String(apiService!["spec"]!["caBundle"]!.GetValue<string>())), "caBundle").Certificates;
        }
    }

    private async Task<Uri?> EndpointAsync()
    {
        var endpoints = await fixture.Admin.GetAsync($"/api/v1/namespaces/{AggregatorNames.Namespace}/endpoints/{AggregatorNames.Name}", CancellationToken.None);
        var subset = endpoints?["subsets"]?[0];
        var ip = subset?["addresses"]?[0]?["ip"]?.GetValue<string>();
        var port = subset?["ports"]?[0]?["port"]?.GetValue<int>();
        return ip is null || port is null ? null : new Uri($"https://{ip}:{port}/apis/metrics.lab.example/v1beta1");
    }

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

    [Fact]
    public async Task A_rollout_restart_replaces_the_pod_which_loads_the_front_proxy_trust_published_at_its_start()
    {
        await WaitForAggregatorAsync();
        var before = await EndpointAsync();
        var podsBefore = await AggregatorPodsAsync();
        var containersBefore = podsBefore.SelectMany(p => fixture.Lab.Nodes.Select(n => KubeCaRotate.Lab.Kubelet.AggregatorContainer.PidFile(fixture.Lab, n.Name, AggregatorNames.Namespace, p)))
            .Where(File.Exists).Select(f => KubeCaRotate.Lab.Processes.ProcessIdentity.ParsePidFile(f, File.ReadAllText(f))).ToList();
        Assert.NotEmpty(containersBefore);
        (await fixture.KubectlAsync("rollout", "restart", $"deployment/{AggregatorNames.Name}", "-n", AggregatorNames.Namespace)).EnsureSuccess();
        (await fixture.KubectlAsync("rollout", "status", $"deployment/{AggregatorNames.Name}", "-n", AggregatorNames.Namespace, "--timeout=120s")).EnsureSuccess();
        await WorkloadLab.EventuallyAsync(async () => (await AggregatorPodsAsync()) is [var only] && !podsBefore.Contains(only), "the old aggregator pod is gone and one new pod runs");
        // Deleting the old pod ended its container's process.
        await WorkloadLab.EventuallyAsync(() => Task.FromResult(containersBefore.All(c => !c.IsAlive())), "the old pod's container process has exited");
        var pod = (await AggregatorPodsAsync()).Single();
        await WorkloadLab.EventuallyAsync(async () => await EndpointAsync() is { } now && now != before, "the Endpoints name the new pod's address");

        // The new pod recorded the ConfigMap as it was at its start, and the front proxy's CA is in it.
        var node = fixture.Lab.Nodes.Single(n => File.Exists(Path.Join(KubeCaRotate.Lab.Kubelet.LoadedFiles.Dir(fixture.Lab, n.Name, $"pod-{AggregatorNames.Namespace}-{pod}"), AggregatorNames.AuthenticationConfigPath)));
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Join(KubeCaRotate.Lab.Kubelet.LoadedFiles.Dir(fixture.Lab, node.Name, $"pod-{AggregatorNames.Namespace}-{pod}"), AggregatorNames.AuthenticationConfigPath)))!.AsObject();
        var frontProxyCa = File.ReadAllText(fixture.NodeFile(fixture.Lab.ControlPlanes.First(), "/etc/kubernetes/pki/front-proxy-ca.crt"));
        var trusted = PemBundle.Parse(recorded["data"]!["requestheader-client-ca-file"]!.GetValue<string>(), "recorded requestheader CA").Certificates;
        Assert.Contains(trusted, c => c.Thumbprint == X509Certificate2.CreateFromPem(frontProxyCa).Thumbprint);
        (await fixture.KubectlAsync("get", "--raw", "/apis/metrics.lab.example/v1beta1/nodes")).EnsureSuccess();
    }

    private async Task<List<string>> AggregatorPodsAsync() =>
        [.. (await fixture.Admin.ListAsync($"/api/v1/namespaces/{AggregatorNames.Namespace}/pods?labelSelector=k8s-app%3D{AggregatorNames.Name}", CancellationToken.None))
            .Where(p => p["metadata"]?["deletionTimestamp"] is null).Select(p => p["metadata"]!["name"]!.GetValue<string>())];

    /// <summary>The aggregated server's pod starts after `lab up` has seeded the cluster: wait until its endpoint answers its health check.</summary>
    private async Task WaitForAggregatorAsync()
    {
        using var client = LabClients.Create(ServingCa, null, TimeSpan.FromSeconds(5));
        await WorkloadLab.EventuallyAsync(async () =>
        {
            if (await EndpointAsync() is not { } direct)
                return false;
            _direct = direct;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(direct, "/healthz"));
                request.Headers.Host = AggregatorNames.ServiceDnsName; // the name its certificate carries, as the API server checks it
                return (await client.SendAsync(request)).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the aggregated API server's endpoint answers /healthz", 90);
    }

    private async Task<HttpStatusCode> DirectAsync(X509Certificate2? identity, string user)
    {
        using var client = LabClients.Create(ServingCa, identity, TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, Direct);
        request.Headers.Host = AggregatorNames.ServiceDnsName;
        request.Headers.Add("X-Remote-User", user);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
