using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KubeCaRotate.Tests.Cluster;

/// <summary>One request as the server received it.</summary>
public sealed record SeenRequest(int Number, string Method, string Path, IReadOnlyDictionary<string, string> Query, string? ContentType, string Body);

/// <summary>
/// A real HTTP server on 127.0.0.1 whose answers a test scripts, written the way kube-apiserver writes them:
/// JSON objects, <c>Status</c> objects for errors, lists with <c>metadata.continue</c>. It records every request
/// and the most requests it ever had in flight at once.
/// </summary>
public sealed class ScriptedApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SeenRequest> _seen = new();
    private int _number;
    private int _inFlight;
    private int _maxInFlight;

    private ScriptedApiServer(WebApplication app, Func<HttpContext, SeenRequest, Task> answer)
    {
        _app = app;
        app.Run(async http =>
        {
            var now = Interlocked.Increment(ref _inFlight);
            for (var max = Volatile.Read(ref _maxInFlight); now > max; max = Volatile.Read(ref _maxInFlight))
                Interlocked.CompareExchange(ref _maxInFlight, now, max);
            try
            {
                using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
                var body = await reader.ReadToEndAsync(http.RequestAborted);
                var request = new SeenRequest(Interlocked.Increment(ref _number), http.Request.Method, http.Request.Path.Value ?? "",
                    http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()), http.Request.ContentType, body);
                _seen.Enqueue(request);
                await answer(http, request);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });
    }

    /// <summary>The server URL, http://127.0.0.1:PORT.</summary>
    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<SeenRequest> Requests => [.. _seen.OrderBy(r => r.Number)];

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int InFlight => Volatile.Read(ref _inFlight);

    public static async Task<ScriptedApiServer> StartAsync(Func<HttpContext, SeenRequest, Task> answer)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0);
        });
        var server = new ScriptedApiServer(builder.Build(), answer);
        await server._app.StartAsync();
        var bound = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(bound);
        return server;
    }

    /// <summary>A kubeconfig whose current context points at this server with a bearer token.</summary>
    public byte[] Kubeconfig() => Encoding.UTF8.GetBytes($"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: scripted
          cluster:
            server: {Url.GetLeftPart(UriPartial.Authority)}
        users:
        - name: tester
          user:
            token: scripted-token
        contexts:
        - name: scripted
          context:
            cluster: scripted
            user: tester
        current-context: scripted
        """);

    public static Task WriteJsonAsync(HttpContext http, JsonNode body, int status = 200)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(body.ToJsonString(), http.RequestAborted);
    }

    /// <summary>An error as kube-apiserver answers it: a v1 Status with reason, message and code.</summary>
    public static Task WriteStatusAsync(HttpContext http, int code, string reason, string message, JsonObject? details = null, JsonObject? metadata = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = metadata ?? new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (details is not null) status["details"] = details;
        return WriteJsonAsync(http, status, code);
    }

    public static JsonObject ConfigMap(string ns, string name, int resourceVersion, IDictionary<string, string>? data = null)
    {
        var o = new JsonObject
        {
            ["kind"] = "ConfigMap",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["uid"] = Guid.NewGuid().ToString(),
                ["resourceVersion"] = resourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["creationTimestamp"] = "2025-01-01T00:00:00Z",
            },
        };
        if (data is not null) o["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        return o;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
