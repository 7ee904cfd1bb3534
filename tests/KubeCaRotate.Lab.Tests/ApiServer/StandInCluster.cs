using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ApiServer;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>
/// One API server stand-in on a free loopback port, started from kubeadm's kube-apiserver flags over a node
/// root directory with a throw-away PKI, plus kubeconfigs and HTTP clients for the tests.
/// </summary>
public sealed class StandInCluster : IAsyncDisposable
{
    public const string Issuer = "https://kubernetes.default.svc.cluster.local";

    private StandInCluster(string dir) => Dir = dir;

    public string Dir { get; }
    public string NodeRoot => Path.Combine(Dir, "node");
    public string Pki => Path.Combine(NodeRoot, "etc/kubernetes/pki");
    internal TestCa Ca { get; private set; } = null!;
    internal TestCa FrontProxyCa { get; private set; } = null!;
    public RSA ServiceAccountKey { get; } = RSA.Create(2048);
    public InMemoryObjectStore Store { get; } = new();
    public ApiServerStandIn Server { get; private set; } = null!;
    public string AdminKubeconfig { get; private set; } = "";
    public X509Certificate2 AdminCertificate { get; private set; } = null!;
    public string? FaultFile { get; private set; }

    /// <summary>The command of kubeadm's kube-apiserver.yaml for a node on 127.0.0.1 (from the same generator the lab uses), on a free port.</summary>
    public static IReadOnlyList<string> KubeadmArgs(string? faultFile) =>
    [
        "kube-apiserver",
        .. KubeCaRotate.Layout.KubeadmManifests.KubeApiServerFlags(new KubeCaRotate.Layout.ControlPlaneNodeSpec { NodeName = "cp-1", AdvertiseAddress = "127.0.0.1", ApiServerBindPort = 0 }),
        .. faultFile is null ? Array.Empty<string>() : ["--lab-fault-file=" + faultFile],
    ];

    public static async Task<StandInCluster> StartAsync()
    {
        var cluster = new StandInCluster(Directory.CreateTempSubdirectory("apiserver-standin-").FullName);
        Directory.CreateDirectory(cluster.Pki);
        cluster.Ca = TestCa.Create("kubernetes");
        cluster.FrontProxyCa = TestCa.Create("front-proxy-ca");
        File.WriteAllText(Path.Combine(cluster.Pki, "ca.crt"), cluster.Ca.CertificatePem);
        File.WriteAllText(Path.Combine(cluster.Pki, "front-proxy-ca.crt"), cluster.FrontProxyCa.CertificatePem);
        var (serving, servingKey) = cluster.Ca.Issue("kube-apiserver", server: true);
        TestCa.WritePair(cluster.Pki, "apiserver", serving, servingKey);
        File.WriteAllText(Path.Combine(cluster.Pki, "sa.pub"), cluster.ServiceAccountKey.ExportSubjectPublicKeyInfoPem() + "\n");
        File.WriteAllText(Path.Combine(cluster.Pki, "sa.key"), "");
        File.SetUnixFileMode(Path.Combine(cluster.Pki, "sa.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(cluster.Pki, "sa.key"), cluster.ServiceAccountKey.ExportRSAPrivateKeyPem() + "\n");
        cluster.FaultFile = Path.Combine(cluster.Dir, "faults.json");

        var options = ApiServerOptions.Parse(KubeadmArgs(cluster.FaultFile), cluster.MapPath);
        cluster.Server = await ApiServerStandIn.StartAsync(options, cluster.Store, null, CancellationToken.None);

        var (admin, adminKey) = cluster.Ca.Issue("kubernetes-admin", ["kubeadm:cluster-admins"]);
        cluster.AdminCertificate = admin.CopyWithPrivateKey(adminKey);
        cluster.AdminKubeconfig = cluster.WriteKubeconfig("admin.conf", admin, adminKey);
        await cluster.SeedAsync();
        return cluster;
    }

    public string MapPath(string nodePath) => Path.Combine(NodeRoot, nodePath.TrimStart('/'));

    /// <summary>A kubeconfig (our own few lines of YAML) for a client certificate, trusting the cluster CA.</summary>
    internal string WriteKubeconfig(string fileName, X509Certificate2 certificate, ECDsa key)
    {
        static string B64(string pem) => Convert.ToBase64String(Encoding.ASCII.GetBytes(pem));
        var path = Path.Combine(Dir, fileName);
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: lab
              cluster:
                server: {Server.Url.ToString().TrimEnd('/')}
                certificate-authority-data: {B64(Ca.CertificatePem)}
            users:
            - name: user
              user:
                client-certificate-data: {B64(certificate.ExportCertificatePem() + "\n")}
                client-key-data: {B64(key.ExportECPrivateKeyPem() + "\n")}
            contexts:
            - name: lab
              context:
                cluster: lab
                user: user
            current-context: lab
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    public Task<ProcessRun> KubectlAsync(params string[] args) => KubectlWithAsync(AdminKubeconfig, null, args);

    public Task<ProcessRun> KubectlWithAsync(string kubeconfig, string? stdin, params string[] args) =>
        ProcessRun.RunAsync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", Path.Combine(Dir, "kube-cache"), "--request-timeout=30s", .. args], stdin);

    public Task<ProcessRun> BashAsync(string script) =>
        ProcessRun.RunAsync("bash", ["-c", script], environment: new Dictionary<string, string>
        {
            ["KUBECONFIG"] = AdminKubeconfig,
            ["KUBECACHEDIR"] = Path.Combine(Dir, "kube-cache"),
        });

    /// <summary>An HttpClient presenting <paramref name="certificate"/> (or nothing) and trusting only the cluster CA.</summary>
    public HttpClient Client(X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && ChainsToCa(X509CertificateLoader.LoadCertificate(cert.GetRawCertData())),
            },
        };
        return new HttpClient(handler) { BaseAddress = Server.Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>An HttpClient authenticating with a service-account token instead of a certificate.</summary>
    public HttpClient TokenClient(string ns, string name)
    {
        var client = Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServiceAccountToken(ns, name));
        return client;
    }

    private bool ChainsToCa(X509Certificate2 cert)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(Ca.Certificate);
        return chain.Build(cert);
    }

    public async Task<JsonObject> CreateAsync(string path, JsonObject obj)
    {
        using var client = Client(AdminCertificate);
        var response = await client.PostAsync(path, Json(obj));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static StringContent Json(JsonNode node, string mediaType = "application/json") =>
        new(node.ToJsonString(), new MediaTypeHeaderValue(mediaType));

    /// <summary>A bound service-account token signed with the cluster's sa key, as the token controller would issue.</summary>
    public string ServiceAccountToken(string ns, string name, RSA? key = null)
    {
        static string B64(string json) => Base64UrlEncode(Encoding.UTF8.GetBytes(json));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = B64("""{"alg":"RS256","kid":"test"}""");
        var claims = B64(new JsonObject
        {
            ["iss"] = Issuer,
            ["aud"] = new JsonArray(Issuer),
            ["sub"] = $"system:serviceaccount:{ns}:{name}",
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 3600,
            ["kubernetes.io"] = new JsonObject { ["namespace"] = ns, ["serviceaccount"] = new JsonObject { ["name"] = name, ["uid"] = Guid.NewGuid().ToString() } },
        }.ToJsonString());
        var signature = (key ?? ServiceAccountKey).SignData(Encoding.ASCII.GetBytes(header + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{claims}.{Base64UrlEncode(signature)}";
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task SeedAsync()
    {
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "team-a" })
        {
            using var client = Client(AdminCertificate);
            var response = await client.PostAsync("/api/v1/namespaces", Json(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } }));
            Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict, $"namespace {ns}: {response.StatusCode}");
        }
        foreach (var (node, role) in new[] { ("cp-1", "control-plane"), ("worker-1", "") })
        {
            var labels = new JsonObject { ["kubernetes.io/hostname"] = node };
            if (role.Length > 0)
                labels["node-role.kubernetes.io/" + role] = "";
            await CreateAsync("/api/v1/nodes", new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Node",
                ["metadata"] = new JsonObject { ["name"] = node, ["labels"] = labels },
                ["status"] = new JsonObject
                {
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
                    ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
                    ["nodeInfo"] = new JsonObject { ["kubeletVersion"] = "v1.32.4" },
                },
            });
        }
        await CreateAsync("/api/v1/namespaces/team-a/secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "builder-token", ["annotations"] = new JsonObject { ["kubernetes.io/service-account.name"] = "builder" } },
            ["type"] = "kubernetes.io/service-account-token",
            ["data"] = new JsonObject { ["ca.crt"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(Ca.CertificatePem)), ["namespace"] = Convert.ToBase64String("team-a"u8.ToArray()) },
        });
        await CreateAsync("/api/v1/namespaces/team-a/secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "plain" },
            ["stringData"] = new JsonObject { ["password"] = "s3cret" },
        });
        await CreateAsync("/apis/apps/v1/namespaces/team-a/deployments", Deployment("web"));
    }

    public static JsonObject Deployment(string name) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = name } },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 2,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "app",
                        ["image"] = "registry.k8s.io/pause:3.10",
                        ["env"] = new JsonArray(new JsonObject { ["name"] = "A", ["value"] = "1" }),
                    }),
                },
            },
        },
    };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>xunit fixture: one stand-in shared by a test class.</summary>
public sealed class StandInClusterFixture : IAsyncLifetime
{
    public StandInCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await StandInCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
