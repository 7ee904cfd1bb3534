using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Kubelet;
using WorkloadPods = KubeCaRotate.Lab.Kubelet.WorkloadPods;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// What the container of a lab-aggregator pod runs, in its own process (`kube-ca-rotate lab component aggregator`, started
/// by the kubelet stand-in, see <see cref="AggregatorContainer"/>): it reads, once, the files the kubelet mounted for it
/// (recorded with <see cref="LoadedFiles"/> under pod-NAMESPACE-NAME: its service-account ca.crt and token, its serving
/// pair), reads kube-system/extension-apiserver-authentication with that service-account client (or, when its container
/// is started again for the same pod, takes the copy it recorded the first time) and records it, serves
/// <see cref="AggregatedApiServer"/> on the node's address, writes the port it listens on to
/// <see cref="AggregatorContainer.PortFile"/>, and serves until it is told to stop (SIGTERM). It never re-reads any of it.
/// </summary>
public static class AggregatorEntrypoint
{
    /// <summary>How long a stopping lab-aggregator keeps serving after SIGTERM (well within <see cref="Kubelet.AggregatorContainer.StopGrace"/>).</summary>
    public static readonly TimeSpan ShutdownDelay = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(LabTopology lab, LabNode node, string ns, string name, int port, TextWriter log, CancellationToken ct)
    {
        var component = WorkloadPods.Component(ns, name);
        string Mounted(string nodePath) => LoadedFiles.Find(lab, node.Name, component, nodePath) is { } file ? File.ReadAllText(file)
            : throw new InvalidOperationException($"{nodePath} of pod {ns}/{name} is not under {LoadedFiles.Dir(lab, node.Name, component)}; the kubelet mounts it before it starts the container.");

        var caPem = Mounted($"{WorkloadPods.ServiceAccountDir}/ca.crt");
        var token = Mounted($"{WorkloadPods.ServiceAccountDir}/token");
        var certPem = Mounted($"{AggregatorNames.ServingCertDir}/tls.crt");
        var keyPem = Mounted($"{AggregatorNames.ServingCertDir}/tls.key");
        using var client = new KubeconfigClient(lab.EndpointUrl, PemBundle.ParseNonEmpty(caPem, $"{WorkloadPods.ServiceAccountDir}/ca.crt of pod {ns}/{name}").Certificates, null, token);

        JsonObject authentication;
        if (LoadedFiles.Find(lab, node.Name, component, AggregatorNames.AuthenticationConfigPath) is { } recorded)
        {
            authentication = JsonNode.Parse(await File.ReadAllTextAsync(recorded, ct).ConfigureAwait(false)) as JsonObject
                ?? throw new InvalidOperationException($"The recorded {recorded} is not a JSON object.");
        }
        else
        {
            authentication = await AggregatedApiServer.ReadTrustAsync(client, ct).ConfigureAwait(false);
            LoadedFiles.Record(lab, node, component, AggregatorNames.AuthenticationConfigPath, Encoding.UTF8.GetBytes(authentication.ToJsonString()));
        }
        var trust = FrontProxyTrust.FromConfigMap(authentication);

        using var pem = X509Certificate2.CreateFromPem(certPem, keyPem);
        // export/import so that SslStream can use the key on Linux
        using var serving = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var address = IPAddress.Parse(node.Address);
        AggregatedApiServer server;
        try
        {
            server = await AggregatedApiServer.StartAsync(address, port, serving, trust, client, log, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException && port != 0)
        {
            // started again for the same pod, but its earlier port is taken: any free one (the kubelet republishes the Endpoints)
            log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: port {port} is not free ({e.Message}); taking another");
            server = await AggregatedApiServer.StartAsync(address, 0, serving, trust, client, log, ct).ConfigureAwait(false);
        }
        await using (server.ConfigureAwait(false))
        {
            var portFile = AggregatorContainer.PortFile(lab, node.Name, ns, name);
            await File.WriteAllTextAsync(portFile + ".tmp", server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
            File.Move(portFile + ".tmp", portFile, overwrite: true);
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            // As an aggregated API server with --shutdown-delay-duration (or a preStop sleep): the kubelet has taken the pod
            // out of the Service's Endpoints before telling it to stop, but whoever read the Endpoints a moment earlier
            // (an API server's proxy, the prober) may still connect; it keeps serving them for a while.
            log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: told to stop; serving {ShutdownDelay.TotalSeconds:0} s more, then stopping");
            await Task.Delay(ShutdownDelay, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
