using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Lab.Tls;

namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// One etcd member's client URL with its own connection pool. Failures to reach it come out as
/// <see cref="EtcdEndpointUnreachableException"/> carrying a sentence that names the member and the cause.
/// </summary>
internal sealed class EtcdEndpoint : IDisposable
{
    private readonly HttpClient _http;
    private readonly EtcdClientTls? _tls;
    private readonly TimeProvider _time;
    private readonly SslClientAuthenticationOptions? _sslOptions;
    private volatile string? _serverCertificateProblem;

    public EtcdEndpoint(Uri baseUri, EtcdClientTls? tls, TimeProvider time)
    {
        BaseUri = baseUri;
        _tls = tls;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        if (tls is not null)
        {
            _sslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = new X509CertificateCollection { tls.ClientCertificate },
                // Always offer our certificate, whatever CAs the member says it accepts, so that a member that does
                // not trust it rejects it (and we can say so) instead of seeing no certificate at all.
                LocalCertificateSelectionCallback = (_, _, _, _, _) => tls.ClientCertificate,
                RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
                {
                    var problem = tls.CheckServerCertificate(cert, chain, errors, _time.GetUtcNow());
                    _serverCertificateProblem = problem;
                    return problem is null;
                },
            };
            handler.SslOptions = _sslOptions;
        }
        _http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri BaseUri { get; }

    /// <summary>The member as our messages name it, e.g. https://127.0.0.1:2379.</summary>
    public string Name => BaseUri.GetLeftPart(UriPartial.Authority);

    /// <summary>POSTs one gateway request; throws <see cref="EtcdEndpointUnreachableException"/> when this member cannot serve it.</summary>
    public async Task<TResponse> PostAsync<TRequest, TResponse>(string path, TRequest request, TimeSpan timeout, CancellationToken ct)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(timeout);
        try
        {
            using var response = await _http.PostAsJsonAsync(path, request, EtcdWire.Json, attempt.Token).ConfigureAwait(false);
            await ThrowIfErrorAsync(path, response, attempt.Token).ConfigureAwait(false);
            return await response.Content.ReadFromJsonAsync<TResponse>(EtcdWire.Json, attempt.Token).ConfigureAwait(false)
                ?? throw new EtcdEndpointUnreachableException(this, $"etcd at {Name} sent an empty answer to {path}");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && IsTransportFailure(e))
        {
            throw new EtcdEndpointUnreachableException(this, await ExplainAsync(e, timeout, ct).ConfigureAwait(false), e);
        }
    }

    /// <summary>
    /// Opens a streaming POST (the watch). The returned response's body is read with <paramref name="stream"/>'s token,
    /// which stays linked to the caller's token; the timeout applies until the response headers arrive.
    /// </summary>
    public async Task<HttpResponseMessage> OpenStreamAsync<TRequest>(string path, TRequest request, TimeSpan timeout, CancellationTokenSource stream)
    {
        stream.CancelAfter(timeout);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(request, options: EtcdWire.Json) };
            var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, stream.Token).ConfigureAwait(false);
            try
            {
                await ThrowIfErrorAsync(path, response, stream.Token).ConfigureAwait(false);
            }
            catch
            {
                response.Dispose();
                throw;
            }
            stream.CancelAfter(Timeout.InfiniteTimeSpan);
            return response;
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            throw new EtcdEndpointUnreachableException(this, await ExplainAsync(e, timeout, CancellationToken.None).ConfigureAwait(false), e);
        }
    }

    /// <summary>A sentence naming this member and why talking to it failed.</summary>
    private async Task<string> ExplainAsync(Exception e, TimeSpan timeout, CancellationToken ct)
    {
        var reason = Explain(e, timeout);
        if (reason is not null) return reason;
        // With TLS 1.3 the client finishes its side of the handshake before the member checks our certificate, so a
        // rejection shows up as a reset or EOF on the request. A fresh handshake that then waits to read tells the
        // rejection alert apart from a member that simply went away.
        if (_sslOptions is not null && Flatten(e).Any(x => x is IOException or SocketException { SocketErrorCode: SocketError.ConnectionReset }))
        {
            var diagnosed = await DiagnoseHandshakeAsync(timeout, ct).ConfigureAwait(false);
            if (diagnosed is not null) return diagnosed;
        }
        return Flatten(e).OfType<SocketException>().FirstOrDefault() is { SocketErrorCode: SocketError.ConnectionReset }
            ? $"etcd at {Name} reset the connection"
            : $"etcd at {Name} could not be used: {string.Join(" | ", Flatten(e).Select(x => x.Message))}";
    }

    /// <summary>The cause when it is clear from the exception alone, else null.</summary>
    private string? Explain(Exception e, TimeSpan timeout)
    {
        var chain = Flatten(e).ToList();
        var text = string.Join(" | ", chain.Select(x => x.Message));
        if (chain.Any(x => x is AuthenticationException) && _serverCertificateProblem is { } problem)
        {
            return $"etcd at {Name} could not be trusted: its serving certificate {problem}";
        }
        if (ClientCertificateRejection.AlertIn(e) is { } alert)
        {
            var cert = _tls?.ClientCertificate;
            var who = cert is null ? "" : $" (\"{cert.Subject}\" issued by \"{cert.Issuer}\")";
            return $"etcd at {Name} rejected our client certificate{who} with \"{alert}\": it is not signed by a CA the member trusts";
        }
        if (chain.OfType<SocketException>().FirstOrDefault() is { SocketErrorCode: not SocketError.ConnectionReset } socket)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"etcd at {Name} refused the connection (is the member running?)",
                SocketError.TimedOut => $"etcd at {Name} did not accept a connection in time",
                _ => $"etcd at {Name} could not be reached: {socket.Message}",
            };
        }
        if (chain.Any(x => x is AuthenticationException))
        {
            return $"etcd at {Name} failed the TLS handshake: {text}";
        }
        if (chain.Any(x => x is OperationCanceledException or TimeoutException))
        {
            return $"etcd at {Name} did not answer within {timeout.TotalSeconds:0.#} seconds";
        }
        return null;
    }

    private async Task<string?> DiagnoseHandshakeAsync(TimeSpan timeout, CancellationToken ct)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = BaseUri.IdnHost,
            ClientCertificates = _sslOptions!.ClientCertificates,
            LocalCertificateSelectionCallback = _sslOptions.LocalCertificateSelectionCallback,
            RemoteCertificateValidationCallback = _sslOptions.RemoteCertificateValidationCallback,
        };
        var (verdict, error) = await ClientCertificateRejection.SecondHandshakeAsync(BaseUri.Host, BaseUri.Port, options,
            TimeSpan.FromSeconds(Math.Min(3, timeout.TotalSeconds)), TimeSpan.FromSeconds(Math.Min(3, timeout.TotalSeconds)), ct).ConfigureAwait(false);
        return verdict switch
        {
            ClientCertificateVerdict.Accepted => null, // the handshake held: the earlier failure was not about certificates
            ClientCertificateVerdict.Rejected when error is not null => Explain(error, timeout),
            ClientCertificateVerdict.Rejected => $"etcd at {Name} closed the connection right after the TLS handshake (it probably rejected our client certificate)",
            _ => error is null || error is OperationCanceledException ? null : Explain(error, timeout),
        };
    }

    public void Dispose() => _http.Dispose();

    private async Task ThrowIfErrorAsync(string path, HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var reason = $"etcd at {Name} answered {path} with {(int)response.StatusCode} {response.StatusCode}: {body.Trim()}";
        // 5xx (no leader, timed out, shutting down) is the member's trouble: try another. 4xx is a request etcd refuses.
        if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw new EtcdEndpointUnreachableException(this, reason);
        }
        throw new Store.StoreUnavailableException(reason);
    }

    private static bool IsTransportFailure(Exception e) =>
        e is HttpRequestException or IOException or AuthenticationException or OperationCanceledException or TimeoutException
            or System.Text.Json.JsonException;

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }
}
