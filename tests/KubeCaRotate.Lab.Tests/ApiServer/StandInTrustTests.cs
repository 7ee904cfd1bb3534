using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>
/// What the stand-in trusts, and when it notices changed files: each test starts its own server because it
/// rewrites the node's PKI files.
/// </summary>
public sealed class StandInTrustTests
{
    [Fact]
    public async Task ClientCertificateFromAForeignCaIsRefused()
    {
        await using var cluster = await StandInCluster.StartAsync();
        var foreign = TestCa.Create("kubernetes");
        var (cert, key) = foreign.Issue("kubernetes-admin", ["system:masters"]);

        // kubectl (client-go always offers its certificate) is refused during the handshake: the stand-in
        // verifies the chain in the TLS callback and fails the connection, so no request is served.
        var kubeconfig = cluster.WriteKubeconfig("foreign.conf", cert, key);
        var kubectl = await cluster.KubectlWithAsync(kubeconfig, null, "get", "--raw", "/api/v1/nodes");
        Assert.NotEqual(0, kubectl.ExitCode);
        Assert.DoesNotContain("NodeList", kubectl.Stdout);
        Assert.DoesNotContain("Unauthorized", kubectl.Stderr);

        // curl (OpenSSL) likewise.
        var (certFile, keyFile) = WritePem(cluster.Dir, "foreign", cert, key);
        var curl = await ProcessRun.RunAsync("curl", ["-sS", "--cacert", Path.Combine(cluster.Pki, "ca.crt"), "--cert", certFile, "--key", keyFile, cluster.Server.Url + "api/v1/nodes"]);
        Assert.NotEqual(0, curl.ExitCode);
        Assert.DoesNotContain("NodeList", curl.Stdout);

        // the same subject from the cluster CA is accepted
        var (good, goodKey) = cluster.Ca.Issue("kubernetes-admin", ["system:masters"]);
        var (goodCert, goodKeyFile) = WritePem(cluster.Dir, "good", good, goodKey);
        var ok = (await ProcessRun.RunAsync("curl", ["-sS", "--cacert", Path.Combine(cluster.Pki, "ca.crt"), "--cert", goodCert, "--key", goodKeyFile, cluster.Server.Url + "api/v1/nodes"])).EnsureSuccess();
        Assert.Contains("NodeList", ok.Stdout);
    }

    [Fact]
    public async Task ReplacedClientCaFileIsHonouredWithoutRestart()
    {
        await using var cluster = await StandInCluster.StartAsync();
        var newCa = TestCa.Create("kubernetes-new");
        var (cert, key) = newCa.Issue("rotation-admin", ["kubeadm:cluster-admins"]);
        var kubeconfig = cluster.WriteKubeconfig("new-ca.conf", cert, key);
        var caFile = Path.Combine(cluster.Pki, "ca.crt");

        Assert.NotEqual(0, (await cluster.KubectlWithAsync(kubeconfig, null, "get", "--raw", "/api/v1/nodes")).ExitCode);

        // trust old + new: both the old admin and the new one get in
        File.WriteAllText(caFile, cluster.Ca.CertificatePem + newCa.CertificatePem);
        (await cluster.KubectlWithAsync(kubeconfig, null, "get", "nodes")).EnsureSuccess();
        (await cluster.KubectlAsync("get", "nodes")).EnsureSuccess();

        // new only: the old CA's admin is refused
        File.WriteAllText(caFile, newCa.CertificatePem);
        (await cluster.KubectlWithAsync(kubeconfig, null, "get", "nodes")).EnsureSuccess();
        var old = await cluster.KubectlAsync("get", "--raw", "/api/v1/nodes");
        Assert.NotEqual(0, old.ExitCode);
    }

    [Fact]
    public async Task ExtensionApiserverAuthenticationUnionOnlyGrows()
    {
        await using var cluster = await StandInCluster.StartAsync();
        var data = await ConfigMapDataAsync(cluster);
        Assert.Equal(cluster.Ca.Certificate.Thumbprint, Single(data["client-ca-file"]!).Thumbprint);
        Assert.Equal(cluster.FrontProxyCa.Certificate.Thumbprint, Single(data["requestheader-client-ca-file"]!).Thumbprint);
        Assert.Equal("""["front-proxy-client"]""", (string?)data["requestheader-allowed-names"]);
        Assert.Equal("""["X-Remote-User"]""", (string?)data["requestheader-username-headers"]);
        Assert.Equal("""["X-Remote-Group"]""", (string?)data["requestheader-group-headers"]);
        Assert.Equal("""["X-Remote-Extra-"]""", (string?)data["requestheader-extra-headers-prefix"]);

        // the file now holds only a new CA: the ConfigMap holds old and new
        var newCa = TestCa.Create("kubernetes-new");
        File.WriteAllText(Path.Combine(cluster.Pki, "ca.crt"), newCa.CertificatePem);
        var thumbprints = await WaitForAsync(cluster, d => Bundle((string)d["client-ca-file"]!).Count == 2);
        Assert.Equal(
            new[] { cluster.Ca.Certificate.Thumbprint, newCa.Certificate.Thumbprint }.Order(),
            Bundle((string)thumbprints["client-ca-file"]!).Select(c => c.Thumbprint).Order());
    }

    [Fact]
    public async Task DeletedExtensionApiserverAuthenticationIsRewrittenFromTheCurrentFilesOnly()
    {
        await using var cluster = await StandInCluster.StartAsync();
        var newCa = TestCa.Create("kubernetes-new");
        File.WriteAllText(Path.Combine(cluster.Pki, "ca.crt"), newCa.CertificatePem);
        await WaitForAsync(cluster, d => Bundle((string)d["client-ca-file"]!).Count == 2);

        using var client = cluster.TokenClient("kube-system", "cleaner");
        (await client.DeleteAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")).EnsureSuccessStatusCode();
        var data = await WaitForAsync(cluster, d => Bundle((string)d["client-ca-file"]!).Count == 1);
        Assert.Equal(newCa.Certificate.Thumbprint, Single(data["client-ca-file"]!).Thumbprint);
    }

    [Fact]
    public async Task ExtensionApiserverAuthenticationDropsExpiredCertificates()
    {
        await using var cluster = await StandInCluster.StartAsync();
        // another API server once published a CA that has expired since
        var expiredCa = TestCa.Create("expired");
        var (expired, _) = expiredCa.Issue("expired-ca-like", lifetime: TimeSpan.FromMinutes(-1));
        using var client = cluster.Client(cluster.AdminCertificate);
        var patch = new JsonObject { ["data"] = new JsonObject { ["client-ca-file"] = expired.ExportCertificatePem() + "\n" + cluster.Ca.CertificatePem } };
        var response = await client.PatchAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
            StandInCluster.Json(patch, "application/merge-patch+json"));
        response.EnsureSuccessStatusCode();

        // a change of the file triggers a merge, which drops the expired one
        var newCa = TestCa.Create("kubernetes-new");
        File.WriteAllText(Path.Combine(cluster.Pki, "ca.crt"), cluster.Ca.CertificatePem + newCa.CertificatePem);
        var data = await WaitForAsync(cluster, d => Bundle((string)d["client-ca-file"]!).Any(c => c.Thumbprint == newCa.Certificate.Thumbprint));
        Assert.DoesNotContain(Bundle((string)data["client-ca-file"]!), c => c.Thumbprint == expired.Thumbprint);
        Assert.Equal(2, Bundle((string)data["client-ca-file"]!).Count);
    }

    [Fact]
    public async Task ReplacedServingCertificateIsServedOnNewConnections()
    {
        await using var cluster = await StandInCluster.StartAsync();
        var before = await ServedCertificateAsync(cluster);
        var (next, nextKey) = cluster.Ca.Issue("kube-apiserver", server: true);
        TestCa.WritePair(cluster.Pki, "apiserver", next, nextKey);
        var after = await ServedCertificateAsync(cluster);
        Assert.NotEqual(before.SerialNumber, after.SerialNumber);
        Assert.Equal(next.SerialNumber, after.SerialNumber);
        (await cluster.KubectlAsync("get", "nodes")).EnsureSuccess();
    }

    [Fact]
    public async Task ServiceAccountTokensAreVerifiedAgainstTheKeyFile()
    {
        await using var cluster = await StandInCluster.StartAsync();
        using var client = cluster.Client(null);
        using var good = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/team-a/secrets");
        good.Headers.Authorization = new("Bearer", cluster.ServiceAccountToken("team-a", "builder"));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(good)).StatusCode);

        using var forged = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/team-a/secrets");
        using var otherKey = System.Security.Cryptography.RSA.Create(2048);
        forged.Headers.Authorization = new("Bearer", cluster.ServiceAccountToken("team-a", "builder", otherKey));
        var response = await client.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Unauthorized", (string?)status["reason"]);
    }

    private static async Task<X509Certificate2> ServedCertificateAsync(StandInCluster cluster)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(cluster.Server.EndPoint);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" });
        return X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData());
    }

    private static (string Cert, string Key) WritePem(string dir, string stem, X509Certificate2 cert, System.Security.Cryptography.ECDsa key)
    {
        TestCa.WritePair(dir, stem, cert, key);
        return (Path.Combine(dir, stem + ".crt"), Path.Combine(dir, stem + ".key"));
    }

    private static X509Certificate2 Single(JsonNode pem) => Assert.Single(Bundle((string)pem!));

    private static List<X509Certificate2> Bundle(string pem)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(pem);
        return [.. collection];
    }

    private static async Task<JsonObject> ConfigMapDataAsync(StandInCluster cluster)
    {
        // a service-account token, because the test may have taken the admin's CA out of --client-ca-file
        using var client = cluster.TokenClient("kube-system", "reader");
        var json = await client.GetStringAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
        return JsonNode.Parse(json)!["data"]!.AsObject();
    }

    private static async Task<JsonObject> WaitForAsync(StandInCluster cluster, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            JsonObject data;
            try
            {
                data = await ConfigMapDataAsync(cluster);
            }
            catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                continue;
            }
            if (done(data))
                return data;
            Assert.True(DateTime.UtcNow < deadline, "extension-apiserver-authentication did not change within 60 s: " + data.ToJsonString());
            await Task.Delay(200);
        }
    }
}
