using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// Installs the lab's aggregated API server as an add-on would, through the API as the admin: a ServiceAccount with a
/// legacy token Secret, a Deployment kube-system/lab-aggregator, a Service and its Endpoints (127.0.0.1:PORT), and the
/// APIService v1beta1.metrics.lab.example whose caBundle is the server's own serving CA. It also writes the server's
/// files (<see cref="AggregatorFiles"/>), including the service-account files a kubelet would mount.
/// </summary>
public sealed class AggregatorInstaller(LabTopology lab, TimeProvider time)
{
    public async Task InstallAsync(CancellationToken ct)
    {
        var files = AggregatorFiles.For(lab);
        Directory.CreateDirectory(files.ServiceAccountDir);
        var issuer = new CertificateIssuer(time);
        var ca = issuer.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "lab-aggregator-ca", "serving-ca", $"{AggregatorFiles.Name}-ca@{time.GetUtcNow().ToUnixTimeSeconds()}", "lab aggregated API server serving CA"), lab.Algorithm, TimeSpan.FromDays(365));
        using var servingKey = PrivateKey.Generate(lab.Algorithm);
        var sans = SubjectAltNames.From([AggregatorFiles.ServiceDnsName, $"{AggregatorFiles.ServiceDnsName}.cluster.local", AggregatorFiles.Name], [IPAddress.Loopback], [], out _);
        var serving = issuer.Sign(CertificateTemplate.ForLeaf(AggregatorFiles.ServiceDnsName, [], [ExtendedKeyUsage.ServerAuth], sans), servingKey, ca, TimeSpan.FromDays(365));
        await Write(files.ServingCaCert, ca.CertificatePem(), FileModes.Public, ct).ConfigureAwait(false);
        await Write(files.ServingCert, serving.ExportCertificatePem() + "\n", FileModes.Public, ct).ConfigureAwait(false);
        await Write(files.ServingKey, servingKey.ToPem(), FileModes.Private, ct).ConfigureAwait(false);
        var port = FreePort();
        await Write(files.PortFile, port.ToString(CultureInfo.InvariantCulture), FileModes.Public, ct).ConfigureAwait(false);

        using var admin = KubeconfigClient.FromFile(lab.AdminKubeconfig, p => p);
        const string ns = AggregatorFiles.Namespace;
        const string name = AggregatorFiles.Name;
        var sa = await admin.CreateAsync($"/api/v1/namespaces/{ns}/serviceaccounts", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = name },
        }, ct).ConfigureAwait(false);
        var saUid = sa?["metadata"]?["uid"]?.GetValue<string>() ?? "";
        var first = lab.ControlPlanes.First();
        var saKeyPem = Encoding.ASCII.GetString((await new LocalNode(first.Name, lab.NodeRoot(first)).ReadFileAsync(KubeadmPaths.Default.ServiceAccountKey, ct).ConfigureAwait(false))!);
        using var saKey = PrivateKey.FromPem(saKeyPem, "sa.key");
        var token = ServiceAccountTokens.IssueLegacy(saKey, ns, name, saUid, name + "-token");
        var rootCa = (await admin.GetAsync($"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt", ct).ConfigureAwait(false))?["data"]?["ca.crt"]?.GetValue<string>()
            ?? throw new LabException($"kube-system/kube-root-ca.crt is missing in the lab in {lab.Dir}; the aggregated API server cannot be given a CA.");
        await admin.CreateAsync($"/api/v1/namespaces/{ns}/secrets", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret", ["type"] = "kubernetes.io/service-account-token",
            ["metadata"] = new JsonObject
            {
                ["name"] = name + "-token",
                ["annotations"] = new JsonObject { ["kubernetes.io/service-account.name"] = name, ["kubernetes.io/service-account.uid"] = saUid },
            },
            ["data"] = new JsonObject
            {
                ["ca.crt"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(rootCa)),
                ["namespace"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(ns)),
                ["token"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(token)),
            },
        }, ct).ConfigureAwait(false);
        await Write(files.Token, token, FileModes.Private, ct).ConfigureAwait(false);
        await Write(files.CaCert, rootCa, FileModes.Public, ct).ConfigureAwait(false);
        await Write(files.NamespaceFile, ns, FileModes.Public, ct).ConfigureAwait(false);

        var labels = new JsonObject { ["k8s-app"] = name };
        await admin.CreateAsync($"/apis/apps/v1/namespaces/{ns}/deployments", new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = labels.DeepClone() },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = labels.DeepClone() },
                    ["spec"] = new JsonObject
                    {
                        ["serviceAccountName"] = name,
                        ["containers"] = new JsonArray(new JsonObject
                        {
                            ["name"] = name, ["image"] = "registry.example/lab-aggregator:1",
                            ["args"] = new JsonArray($"--secure-port={port}", "--tls-cert-file=/var/run/serving-cert/tls.crt", "--tls-private-key-file=/var/run/serving-cert/tls.key"),
                        }),
                    },
                },
            },
        }, ct).ConfigureAwait(false);
        await admin.CreateAsync($"/api/v1/namespaces/{ns}/services", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["selector"] = labels.DeepClone(),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = port }),
            },
        }, ct).ConfigureAwait(false);
        // Endpoints are what the endpoints controller would publish for the pod; the lab's pod listens on loopback.
        await admin.CreateAsync($"/api/v1/namespaces/{ns}/endpoints", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Endpoints",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels.DeepClone() },
            ["subsets"] = new JsonArray(new JsonObject
            {
                ["addresses"] = new JsonArray(new JsonObject { ["ip"] = "127.0.0.1" }),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = port, ["protocol"] = "TCP" }),
            }),
        }, ct).ConfigureAwait(false);
        await admin.CreateAsync("/apis/apiregistration.k8s.io/v1/apiservices", new JsonObject
        {
            ["apiVersion"] = "apiregistration.k8s.io/v1", ["kind"] = "APIService",
            ["metadata"] = new JsonObject { ["name"] = AggregatorFiles.ApiServiceName },
            ["spec"] = new JsonObject
            {
                ["group"] = AggregatorFiles.Group,
                ["version"] = AggregatorFiles.Version,
                ["service"] = new JsonObject { ["namespace"] = ns, ["name"] = name, ["port"] = 443 },
                ["caBundle"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(ca.CertificatePem())),
                ["groupPriorityMinimum"] = 100,
                ["versionPriority"] = 100,
            },
        }, ct).ConfigureAwait(false);
    }

    private static async Task Write(string path, string content, UnixFileMode mode, CancellationToken ct)
    {
        await File.WriteAllTextAsync(path, "", ct).ConfigureAwait(false);
        File.SetUnixFileMode(path, mode);
        await File.WriteAllTextAsync(path, content, ct).ConfigureAwait(false);
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
