using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// One instance (one pod) of the lab's aggregated API server (group metrics.lab.example, version v1beta1), run by the
/// kubelet stand-in for a pod of the lab-aggregator Deployment. It is given what the pod read at its start and never
/// re-reads any of it: its serving pair (from its Secret), the front-proxy trust (from
/// kube-system/extension-apiserver-authentication, see <see cref="ReadTrustAsync"/>) and its service-account client.
/// It serves HTTPS on the node's address and answers only requests that come through a trusted front proxy
/// (<see cref="FrontProxyTrust"/>); /healthz, /livez and /readyz are open. Every answer carries
/// X-Lab-Authenticated-User so tests can see who the proxy said was asking.
/// </summary>
public sealed class AggregatedApiServer : IAsyncDisposable
{
    public const string UserHeader = "X-Lab-Authenticated-User";
    private readonly WebApplication _app;

    private AggregatedApiServer(WebApplication app, IPEndPoint endpoint, FrontProxyTrust trust)
    {
        _app = app;
        EndPoint = endpoint;
        Trust = trust;
    }

    /// <summary>Where it listens (the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The front-proxy trust loaded at its start.</summary>
    public FrontProxyTrust Trust { get; }

    /// <summary>
    /// Reads kube-system/extension-apiserver-authentication with the pod's own service-account client, as the real
    /// server's requestheader authenticator does at start. Throws <see cref="ApiCallException"/> or
    /// <see cref="InvalidOperationException"/> (one sentence) when it cannot.
    /// </summary>
    public static async Task<JsonObject> ReadTrustAsync(KubeconfigClient client, CancellationToken ct) =>
        await client.GetAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication", ct).ConfigureAwait(false)
        ?? throw new InvalidOperationException("kube-system/extension-apiserver-authentication does not exist yet; the aggregated API server cannot know its front proxy.");

    /// <summary>Starts listening on <paramref name="address"/>:<paramref name="port"/> (0: a free port); <paramref name="client"/> stays the caller's.</summary>
    public static async Task<AggregatedApiServer> StartAsync(IPAddress address, int port, X509Certificate2 serving, FrontProxyTrust trust, KubeconfigClient client, TextWriter log, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, port, l => l.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serving,
                // ask for a certificate, judge it per request (Go's RequestClientCert + the requestheader authenticator)
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            }));
        });
        var app = builder.Build();
        app.Run(context => HandleAsync(context, trust, client, log));
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var endpoint = new IPEndPoint(address, new Uri(bound).Port);
        log.WriteLine($"{DateTimeOffset.UtcNow:O} lab-aggregator: serving {AggregatorNames.Group}/{AggregatorNames.Version} on https://{endpoint}, trusting front proxies {string.Join(", ", trust.AllowedNames)} from {string.Join(", ", trust.RequestHeaderCa.Select(c => c.Subject))}");
        return new AggregatedApiServer(app, endpoint, trust);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
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
        const string prefix = "/apis/" + AggregatorNames.Group;
        JsonObject body;
        switch (path)
        {
            case prefix:
                body = new JsonObject
                {
                    ["kind"] = "APIGroup", ["apiVersion"] = "v1", ["name"] = AggregatorNames.Group,
                    ["versions"] = new JsonArray(GroupVersion()),
                    ["preferredVersion"] = GroupVersion(),
                };
                break;
            case prefix + "/" + AggregatorNames.Version:
                body = new JsonObject
                {
                    ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = $"{AggregatorNames.Group}/{AggregatorNames.Version}",
                    ["resources"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "nodes", ["singularName"] = "", ["namespaced"] = false, ["kind"] = "NodeMetrics", ["verbs"] = new JsonArray("get", "list"),
                    }),
                };
                break;
            case prefix + "/" + AggregatorNames.Version + "/nodes":
                try
                {
                    body = await NodeMetricsAsync(client, context.RequestAborted).ConfigureAwait(false);
                }
                catch (ApiCallException e)
                {
                    await WriteAsync(context, 503, Status(503, "ServiceUnavailable", $"the aggregated API server cannot list nodes: {e.Message}")).ConfigureAwait(false);
                    return;
                }
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
            ["kind"] = "NodeMetricsList", ["apiVersion"] = $"{AggregatorNames.Group}/{AggregatorNames.Version}",
            ["metadata"] = new JsonObject(), ["items"] = items,
        };
    }

    private static JsonObject GroupVersion() => new() { ["groupVersion"] = $"{AggregatorNames.Group}/{AggregatorNames.Version}", ["version"] = AggregatorNames.Version };

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
