using System.Net;
using KubeCaRotate.Lab.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The lab's kube-apiserver: Kestrel over real TLS, configured from kube-apiserver's flags, serving the REST
/// conventions kubectl and the KubernetesClient package use, on top of any <see cref="IObjectStore"/>.
/// Start it with <see cref="StartAsync"/> (tests) or <see cref="RunAsync"/> (a lab component process).
/// </summary>
public sealed class ApiServerStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;
    private readonly CancellationTokenSource _shutdownInitiated;
    private readonly Task _publisher;

    private ApiServerStandIn(WebApplication app, Task publisher, CancellationTokenSource stopping, CancellationTokenSource shutdownInitiated, IPEndPoint endpoint, ApiServerOptions options)
    {
        _shutdownInitiated = shutdownInitiated;
        _app = app;
        _publisher = publisher;
        _stopping = stopping;
        EndPoint = endpoint;
        Options = options;
    }

    public ApiServerOptions Options { get; }

    /// <summary>Where it listens (the real port when --secure-port was 0).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>"https://127.0.0.1:6443", as a kubeconfig's server field.</summary>
    public Uri Url => new($"https://{(EndPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{EndPoint.Address}]" : EndPoint.Address.ToString())}:{EndPoint.Port}");

    /// <summary>
    /// Runs the stand-in until <paramref name="ct"/> is cancelled (SIGTERM in a component process), then, as
    /// kube-apiserver does, fails /readyz at once, keeps serving for --shutdown-delay-duration, and stops, ending open
    /// watches. Throws with one sentence when a file named by a flag cannot be used.
    /// </summary>
    public static async Task RunAsync(ApiServerOptions options, IObjectStore store, CancellationToken ct)
    {
        await using var server = await StartAsync(options, store, null, ct);
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
        await server.InitiateShutdownAsync();
    }

    /// <summary>Fails /readyz from now on and waits --shutdown-delay-duration while still serving.</summary>
    public async Task InitiateShutdownAsync()
    {
        await _shutdownInitiated.CancelAsync();
        if (Options.ShutdownDelayDuration > TimeSpan.Zero) await Task.Delay(Options.ShutdownDelayDuration);
    }

    /// <summary>
    /// Loads the serving certificate, client CA bundles and service-account keys named by the flags, publishes
    /// extension-apiserver-authentication once, and starts listening. Returns when requests are accepted.
    /// </summary>
    public static async Task<ApiServerStandIn> StartAsync(ApiServerOptions options, IObjectStore store, TimeProvider? time, CancellationToken ct)
    {
        time ??= TimeProvider.System;
        if (options.TlsCertFile is null || options.TlsPrivateKeyFile is null)
            throw new InvalidOperationException("The lab API server needs --tls-cert-file and --tls-private-key-file: it serves HTTPS only.");
        var serving = new ServingCertificate(options.TlsCertFile, options.TlsPrivateKeyFile);
        var clientCa = OpenBundle(options.ClientCaFile, "--client-ca-file");
        var requestHeaderCa = OpenBundle(options.RequestHeaderClientCaFile, "--requestheader-client-ca-file");
        var verifier = new ClientCertificateVerifier(clientCa, requestHeaderCa, time);
        var tokens = new ServiceAccountTokenAuthenticator(options.ServiceAccountKeyFiles, options.ServiceAccountIssuers, options.ApiAudiences, time);
        var tls = new ServerTls(serving, verifier);
        var registry = new ObjectRegistry(store, time);
        var listen = new IPEndPoint(options.ListenAddress, options.SecurePort);
        var stopping = new CancellationTokenSource();
        var shutdownInitiated = new CancellationTokenSource();
        IPEndPoint? bound = null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
            kestrel.Listen(listen, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(tls.OptionsForHandshake()),
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                });
            });
        });
        var app = builder.Build();
        var handler = new RestHandler(options, registry, new RequestAuthenticator(options, verifier, tokens),
            new FaultInjector(options.LabFaultFile, time), new TableConverter(time), new AggregatorProxy(options, registry, time),
            new TokenRequestEndpoint(options, registry, time),
            () => $"{options.AdvertiseAddress ?? bound!.Address}:{bound!.Port}", stopping.Token, shutdownInitiated.Token);
        app.Run(handler.HandleAsync);

        var publisher = new ClusterAuthenticationTrustPublisher(options, verifier, registry, time);
        try
        {
            await publisher.PublishAsync(ct);
        }
        catch (ApiStatusException)
        {
            // the store is not reachable yet: the resync loop keeps trying, as the real controller does
        }
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        bound = new IPEndPoint(listen.Address, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port);
        var loop = Task.Run(() => publisher.RunAsync(stopping.Token), CancellationToken.None);
        return new ApiServerStandIn(app, loop, stopping, shutdownInitiated, bound, options);
    }

    private static CaBundleFile? OpenBundle(string? path, string flag)
    {
        if (path is null)
            return null;
        var bundle = new CaBundleFile(path);
        if (bundle.Current.Certificates.Count == 0)
            throw new InvalidOperationException($"The CA bundle {path} given by {flag} cannot be read or holds no PEM certificate; fix the file or the flag.");
        return bundle;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_stopping.IsCancellationRequested)
            return;
        await _stopping.CancelAsync();
        await _app.StopAsync(ct);
        await _publisher;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _stopping.Dispose();
        _shutdownInitiated.Dispose();
    }
}
