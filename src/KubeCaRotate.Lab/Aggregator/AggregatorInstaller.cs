using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// Installs the lab's aggregated API server as an add-on would, through the API as the admin: a ServiceAccount (no
/// legacy token: its pods get bound tokens), a kubernetes.io/tls Secret with a serving pair for SERVICE.NAMESPACE.svc
/// issued by the add-on's own CA, a Deployment kube-system/lab-aggregator whose pods mount it, a Service whose named
/// target port the kubelet stand-in resolves to each pod's port when it publishes the Endpoints, and the APIService
/// v1beta1.metrics.lab.example whose caBundle is that CA. Nothing is written to disk: the pods are run by the kubelets.
/// </summary>
public sealed class AggregatorInstaller(LabTopology lab, TimeProvider time)
{
    public async Task InstallAsync(CancellationToken ct)
    {
        var issuer = new CertificateIssuer(time);
        var ca = issuer.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "lab-aggregator-ca", "serving-ca", $"{AggregatorNames.Name}-ca@{time.GetUtcNow().ToUnixTimeSeconds()}", "lab aggregated API server serving CA"), lab.Algorithm, TimeSpan.FromDays(365));
        using var servingKey = PrivateKey.Generate(lab.Algorithm);
        var sans = SubjectAltNames.From([AggregatorNames.ServiceDnsName, $"{AggregatorNames.ServiceDnsName}.cluster.local", AggregatorNames.Name], [IPAddress.Loopback], [], out _);
        var serving = issuer.Sign(CertificateTemplate.ForLeaf(AggregatorNames.ServiceDnsName, [], [ExtendedKeyUsage.ServerAuth], sans), servingKey, ca, TimeSpan.FromDays(365));

        using var admin = KubeconfigClient.FromFile(lab.AdminKubeconfig, p => p);
        const string ns = AggregatorNames.Namespace;
        const string name = AggregatorNames.Name;
        static string B64(string text) => Convert.ToBase64String(Encoding.ASCII.GetBytes(text));
        await admin.CreateAsync($"/api/v1/namespaces/{ns}/serviceaccounts", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = name },
        }, ct).ConfigureAwait(false);
        await admin.CreateAsync($"/api/v1/namespaces/{ns}/secrets", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret", ["type"] = "kubernetes.io/tls",
            ["metadata"] = new JsonObject { ["name"] = AggregatorNames.ServingSecret },
            ["data"] = new JsonObject { ["tls.crt"] = B64(serving.ExportCertificatePem() + "\n"), ["tls.key"] = B64(servingKey.ToPem()) },
        }, ct).ConfigureAwait(false);

        var labels = new JsonObject { ["k8s-app"] = name };
        await admin.CreateAsync($"/apis/apps/v1/namespaces/{ns}/deployments", new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = labels.DeepClone() },
                ["strategy"] = new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = 0, ["maxSurge"] = 1 } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = labels.DeepClone() },
                    ["spec"] = new JsonObject
                    {
                        ["serviceAccountName"] = name,
                        ["containers"] = new JsonArray(new JsonObject
                        {
                            ["name"] = name, ["image"] = AggregatorNames.Image,
                            ["args"] = new JsonArray("--secure-port=0", $"--tls-cert-file={AggregatorNames.ServingCertDir}/tls.crt", $"--tls-private-key-file={AggregatorNames.ServingCertDir}/tls.key"),
                            ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["containerPort"] = 0, ["protocol"] = "TCP" }),
                            ["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "serving-cert", ["mountPath"] = AggregatorNames.ServingCertDir, ["readOnly"] = true }),
                        }),
                        ["volumes"] = new JsonArray(new JsonObject { ["name"] = "serving-cert", ["secret"] = new JsonObject { ["secretName"] = AggregatorNames.ServingSecret } }),
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
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = "https" }),
            },
        }, ct).ConfigureAwait(false);
        await admin.CreateAsync("/apis/apiregistration.k8s.io/v1/apiservices", new JsonObject
        {
            ["apiVersion"] = "apiregistration.k8s.io/v1", ["kind"] = "APIService",
            ["metadata"] = new JsonObject { ["name"] = AggregatorNames.ApiServiceName },
            ["spec"] = new JsonObject
            {
                ["group"] = AggregatorNames.Group,
                ["version"] = AggregatorNames.Version,
                ["service"] = new JsonObject { ["namespace"] = ns, ["name"] = name, ["port"] = 443 },
                ["caBundle"] = B64(ca.CertificatePem()),
                ["groupPriorityMinimum"] = 100,
                ["versionPriority"] = 100,
            },
        }, ct).ConfigureAwait(false);
    }
}
