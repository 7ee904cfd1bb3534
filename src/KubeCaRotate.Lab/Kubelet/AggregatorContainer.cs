using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Aggregator;
using KubeCaRotate.Lab.ControllerManager;
using ControllerManager = KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The container of a lab-aggregator pod as the kubelet runs it: its Secret volume (the serving pair, read by the
/// kubelet through the API as the node) and, with the pod's own service-account ca.crt and token, the front-proxy trust
/// from kube-system/extension-apiserver-authentication, all read once at the container's start and recorded with
/// <see cref="LoadedFiles"/>; then an <see cref="AggregatedApiServer"/> on the node's address and a free port. A container
/// adopted by a restarted kubelet starts again from what it recorded, on its earlier port when that is still free.
/// </summary>
internal sealed class AggregatorContainer : IAsyncDisposable
{
    private readonly KubeconfigClient _client;

    private AggregatorContainer(AggregatedApiServer server, KubeconfigClient client)
    {
        Server = server;
        _client = client;
    }

    public AggregatedApiServer Server { get; }

    public int Port => Server.EndPoint.Port;

    /// <summary>
    /// Starts the container; <paramref name="loaded"/> receives what it read (node path to content) when it is not adopted.
    /// Throws <see cref="ApiCallException"/>, <see cref="InvalidOperationException"/> or an I/O exception with one sentence when it cannot start.
    /// </summary>
    public static async Task<AggregatorContainer> StartAsync(LabTopology lab, LabNode node, ApiServerConnection kubelet, JsonObject pod, string component,
        string caPem, string token, WorkloadPodState? adopted, IDictionary<string, byte[]> loaded, TextWriter log, CancellationToken ct)
    {
        var ns = ControllerManager.WorkloadPods.Namespace(pod);
        var certPath = $"{AggregatorNames.ServingCertDir}/tls.crt";
        var keyPath = $"{AggregatorNames.ServingCertDir}/tls.key";
        string? Recorded(string nodePath) => adopted is null ? null : LoadedFiles.Find(lab, node.Name, component, nodePath) is { } f ? File.ReadAllText(f) : null;

        var client = new KubeconfigClient(lab.EndpointUrl, PemBundle.ParseNonEmpty(caPem, $"configmap {ns}/kube-root-ca.crt").Certificates, null, token);
        try
        {
            string certPem, keyPem;
            if (Recorded(certPath) is { } c && Recorded(keyPath) is { } k)
                (certPem, keyPem) = (c, k);
            else
                (certPem, keyPem) = await ServingPairAsync(kubelet, pod, ct).ConfigureAwait(false);
            JsonObject authentication;
            if (Recorded(AggregatorNames.AuthenticationConfigPath) is { } recorded)
                authentication = JsonNode.Parse(recorded) as JsonObject ?? throw new InvalidOperationException($"The recorded {AggregatorNames.AuthenticationConfigPath} of {component} is not a JSON object.");
            else
                authentication = await AggregatedApiServer.ReadTrustAsync(client, ct).ConfigureAwait(false);
            var trust = FrontProxyTrust.FromConfigMap(authentication);
            if (adopted is null)
            {
                loaded[certPath] = Encoding.ASCII.GetBytes(certPem);
                loaded[keyPath] = Encoding.ASCII.GetBytes(keyPem);
                loaded[AggregatorNames.AuthenticationConfigPath] = Encoding.UTF8.GetBytes(authentication.ToJsonString());
            }
            using var pem = X509Certificate2.CreateFromPem(certPem, keyPem);
            // export/import so that SslStream can use the key on Linux
            var serving = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            var address = IPAddress.Parse(node.Address);
            AggregatedApiServer server;
            try
            {
                server = await AggregatedApiServer.StartAsync(address, adopted?.ServingPort ?? 0, serving, trust, client, log, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException && adopted?.ServingPort is not null)
            {
                server = await AggregatedApiServer.StartAsync(address, 0, serving, trust, client, log, ct).ConfigureAwait(false);
            }
            return new AggregatorContainer(server, client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>tls.crt and tls.key of the pod's first Secret volume, read as the node.</summary>
    private static async Task<(string Cert, string Key)> ServingPairAsync(ApiServerConnection kubelet, JsonObject pod, CancellationToken ct)
    {
        var ns = ControllerManager.WorkloadPods.Namespace(pod);
        var secretName = (pod["spec"]?["volumes"] as JsonArray ?? []).Select(v => ControllerManager.WorkloadPods.Str(v?["secret"]?["secretName"])).FirstOrDefault(s => s.Length > 0)
            ?? throw new InvalidOperationException($"The pod {ns}/{ControllerManager.WorkloadPods.Name(pod)} mounts no Secret with its serving certificate.");
        var reply = await kubelet.GetAsync($"api/v1/namespaces/{ns}/secrets/{secretName}", ct).ConfigureAwait(false);
        if (!reply.Ok) throw new InvalidOperationException($"secret \"{secretName}\" cannot be read for the pod's volume: {reply.Describe()}");
        string Field(string key) => ControllerManager.WorkloadPods.Str(reply.Body?["data"]?[key]) is { Length: > 0 } b64 ? Encoding.ASCII.GetString(Convert.FromBase64String(b64))
            : throw new InvalidOperationException($"secret {ns}/{secretName} has no {key}.");
        return (Field("tls.crt"), Field("tls.key"));
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
