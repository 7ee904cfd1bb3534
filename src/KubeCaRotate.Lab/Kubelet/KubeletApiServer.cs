using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ApiServer;
using KubeCaRotate.Lab.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The kubelet API (port 10250): HTTPS with the kubelet's serving pair, clients authenticated by x509 against
/// authentication.x509.clientCAFile. Verification follows the file as it changes (the kubelet's dynamic file CA);
/// the list of acceptable CAs sent in the handshake stays the one read at start (reference §7: fixed until the
/// ReloadKubeletClientCAFile gate). A missing or untrusted client certificate gets 401, as the kubelet's
/// authenticator answers (the handshake itself accepts any certificate). Serves /healthz, /pods and /runningpods/.
/// </summary>
public sealed class KubeletApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KubeletApiServer(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>Starts listening; <paramref name="pods"/> gives the pod list /pods and /runningpods/ answer with.</summary>
    public static async Task<KubeletApiServer> StartAsync(string address, int port, string servingCertFile, string servingKeyFile, string clientCaFile,
        Func<JsonObject> pods, TimeProvider time, CancellationToken ct)
    {
        var serving = new ServingCertificate(servingCertFile, servingKeyFile);
        var clientCa = new CaBundleFile(clientCaFile);
        if (clientCa.Current.Certificates.Count == 0)
            throw new InvalidOperationException($"The kubelet's clientCAFile {clientCaFile} cannot be read or holds no PEM certificate; fix the file or authentication.x509.clientCAFile.");
        var verifier = new ClientCertificateVerifier(clientCa, null, time);
        var current = serving.Current!.Value;
        var context = SslStreamCertificateContext.Create(current.Leaf, current.Chain, offline: true,
            SslCertificateTrust.CreateForX509Collection(verifier.AcceptableIssuers(), sendTrustInHandshake: true));
        var listen = new IPEndPoint(IPAddress.Parse(address), port);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(listen, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = context,
                        ClientCertificateRequired = true,
                        CertificateChainPolicy = HandshakeChainPolicy.Trusting(), // the request judges the certificate; no revocation check, no machine store
                        ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    }),
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                });
            });
        });
        var app = builder.Build();
        app.Run(async http =>
        {
            var certificate = http.Connection.ClientCertificate;
            if (certificate is null || verifier.Verify(certificate) == ClientCertificateTrust.None)
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await http.Response.WriteAsync("Unauthorized", http.RequestAborted);
                return;
            }
            switch (http.Request.Path.Value?.TrimEnd('/'))
            {
                case "/healthz":
                    await http.Response.WriteAsync("ok", http.RequestAborted);
                    return;
                case "/pods" or "/runningpods":
                    http.Response.ContentType = "application/json";
                    await http.Response.WriteAsync(pods().ToJsonString(), http.RequestAborted);
                    return;
                default:
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    await http.Response.WriteAsync("404 page not found", http.RequestAborted);
                    return;
            }
        });
        await app.StartAsync(ct).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KubeletApiServer(app, new IPEndPoint(listen.Address, new Uri(bound).Port));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
