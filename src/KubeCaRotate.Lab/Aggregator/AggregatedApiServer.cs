using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// The lab's aggregated API server (group metrics.lab.example, version v1beta1), run as the lab component
/// `lab component lab-aggregator --lab-dir DIR`. At its start, and never again, it reads its mounted service-account
/// token and ca.crt, uses them to read kube-system/extension-apiserver-authentication through the HA endpoint, and
/// keeps the front-proxy trust found there. It serves HTTPS on 127.0.0.1:PORT with its own serving certificate and
/// answers only requests that come through a trusted front proxy (<see cref="FrontProxyTrust"/>); /healthz, /livez and
/// /readyz are open. Every answer carries X-Lab-Authenticated-User so tests can see who the proxy said was asking.
/// </summary>
public static class AggregatedApiServer
{
    public const string UserHeader = "X-Lab-Authenticated-User";

    public static async Task RunAsync(LabTopology lab, TextWriter log, CancellationToken ct)
    {
        var files = AggregatorFiles.For(lab);
        var token = (await File.ReadAllTextAsync(files.Token, ct).ConfigureAwait(false)).Trim();
        var roots = PemBundle.ParseNonEmpty(await File.ReadAllTextAsync(files.CaCert, ct).ConfigureAwait(false), files.CaCert).Certificates;
        using var client = new KubeconfigClient(lab.EndpointUrl, roots, null, token);
        var trust = await ReadTrustAsync(client, log, ct).ConfigureAwait(false);
        log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: trusting front proxies {string.Join(", ", trust.AllowedNames)} from {string.Join(", ", trust.RequestHeaderCa.Select(c => c.Subject))}");

        var port = int.Parse(await File.ReadAllTextAsync(files.PortFile, ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
        using var pem = X509Certificate2.CreateFromPemFile(files.ServingCert, files.ServingKey);
        using var serving = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, l => l.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serving,
                // ask for a certificate, judge it per request (Go's RequestClientCert + the requestheader authenticator)
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            }));
        });
        await using var app = builder.Build();
        app.Run(context => HandleAsync(context, trust, client, log));
        await app.StartAsync(ct).ConfigureAwait(false);
        log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: serving {AggregatorFiles.Group}/{AggregatorFiles.Version} on https://127.0.0.1:{port}");
        try
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task<FrontProxyTrust> ReadTrustAsync(KubeconfigClient client, TextWriter log, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var cm = await client.GetAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication", ct).ConfigureAwait(false);
                if (cm is not null)
                    return FrontProxyTrust.FromConfigMap(cm);
            }
            catch (ApiCallException e) when (attempt < 60)
            {
                log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: cannot read extension-apiserver-authentication yet: {e.Message}");
            }
            if (attempt >= 60)
                throw new InvalidOperationException("kube-system/extension-apiserver-authentication did not appear within a minute; the aggregated API server cannot know its front proxy.");
            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
    }

    private static async Task HandleAsync(HttpContext context, FrontProxyTrust trust, KubeconfigClient client, TextWriter log)
    {
        var path = context.Request.Path.Value?.TrimEnd('/') ?? "";
        if (path is "/healthz" or "/livez" or "/readyz")
        {
            await context.Response.WriteAsync("ok", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        var certificate = await context.Connection.GetClientCertificateAsync(context.RequestAborted).ConfigureAwait(false);
        var (user, _, refusal) = trust.Authenticate(certificate, h => context.Request.Headers[h].Select(v => v ?? "").ToList(), DateTimeOffset.UtcNow);
        if (user is null)
        {
            log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: refused {context.Request.Method} {path} from {context.Connection.RemoteIpAddress}: {refusal}");
            await WriteAsync(context, 401, Status(401, "Unauthorized", "Unauthorized")).ConfigureAwait(false);
            return;
        }
        context.Response.Headers[UserHeader] = user;
        const string prefix = "/apis/" + AggregatorFiles.Group;
        JsonObject body;
        switch (path)
        {
            case prefix:
                body = new JsonObject
                {
                    ["kind"] = "APIGroup", ["apiVersion"] = "v1", ["name"] = AggregatorFiles.Group,
                    ["versions"] = new JsonArray(GroupVersion()),
                    ["preferredVersion"] = GroupVersion(),
                };
                break;
            case prefix + "/" + AggregatorFiles.Version:
                body = new JsonObject
                {
                    ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = $"{AggregatorFiles.Group}/{AggregatorFiles.Version}",
                    ["resources"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "nodes", ["singularName"] = "", ["namespaced"] = false, ["kind"] = "NodeMetrics", ["verbs"] = new JsonArray("get", "list"),
                    }),
                };
                break;
            case prefix + "/" + AggregatorFiles.Version + "/nodes":
                body = await NodeMetricsAsync(client, context.RequestAborted).ConfigureAwait(false);
                break;
            default:
                await WriteAsync(context, 404, Status(404, "NotFound", "the server could not find the requested resource")).ConfigureAwait(false);
                return;
        }
        await WriteAsync(context, 200, body).ConfigureAwait(false);
    }

    /// <summary>Lists the nodes with its own (service-account) credentials: the aggregated server's edge back to the API server.</summary>
    private static async Task<JsonObject> NodeMetricsAsync(KubeconfigClient client, CancellationToken ct)
    {
        var items = new JsonArray();
        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        foreach (var node in await client.ListAsync("/api/v1/nodes", ct).ConfigureAwait(false))
            items.Add(new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = WorkloadPods.Name(node) },
                ["timestamp"] = now, ["window"] = "10s",
                ["usage"] = new JsonObject { ["cpu"] = "1m", ["memory"] = "1Mi" },
            });
        return new JsonObject
        {
            ["kind"] = "NodeMetricsList", ["apiVersion"] = $"{AggregatorFiles.Group}/{AggregatorFiles.Version}",
            ["metadata"] = new JsonObject(), ["items"] = items,
        };
    }

    private static JsonObject GroupVersion() => new() { ["groupVersion"] = $"{AggregatorFiles.Group}/{AggregatorFiles.Version}", ["version"] = AggregatorFiles.Version };

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code,
    };

    private static async Task WriteAsync(HttpContext context, int code, JsonObject body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }
}
