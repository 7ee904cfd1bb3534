using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Lab.Tls;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// One attempt on an edge: a new TCP connection, a fresh TLS handshake with the edge's credentials, one small HTTP/1.1
/// request, the status line of the answer. Each stage tells the failure class:
/// <list type="bullet">
/// <item>connect refused or timed out, closed or reset before the handshake finished, 5xx/429: availability;</item>
/// <item>our check rejected the server's certificate, a TLS alert from the server, 401: trust;</item>
/// <item>closed right after a completed handshake, before any answer: with TLS 1.3 (and with .NET servers even with
/// 1.2) this is how a server rejects our client certificate, but also how a dying server looks; a second, fresh
/// handshake tells them apart, as the etcd client does (<see cref="ClientCertificateRejection"/>).</item>
/// </list>
/// </summary>
internal sealed class TlsProbe(TimeProvider time)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the second handshake waits for the server to close before concluding it accepted us.</summary>
    public TimeSpan RejectionWait { get; init; } = TimeSpan.FromSeconds(1);

    public async Task<ProbeOutcome> RunAsync(TrustEdge edge, EdgeMaterial material, CancellationToken ct)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(Timeout);
        var server = edge.Server;
        try
        {
            using var socket = await ConnectAsync(edge.Url, attempt.Token).ConfigureAwait(false);
            string? serverProblem = null;
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            try
            {
                await tls.AuthenticateAsClientAsync(Options(edge, material, p => serverProblem = p), attempt.Token).ConfigureAwait(false);
            }
            catch (AuthenticationException) when (serverProblem is not null)
            {
                return ProbeOutcome.Trust($"{edge.Client} does not trust {server}: its serving certificate {serverProblem}");
            }
            catch (Exception e) when (AlertIn(e) is { } alert)
            {
                return ProbeOutcome.Trust($"{server} rejected the TLS handshake of {edge.Client} with \"{alert}\"{Presented(material)}");
            }
            catch (AuthenticationException e)
            {
                return ProbeOutcome.Trust($"The TLS handshake of {edge.Client} with {server} failed: {Messages(e)}");
            }
            catch (IOException e) when (!attempt.IsCancellationRequested)
            {
                return ProbeOutcome.Unavailable($"{server} closed the connection before the TLS handshake finished ({Messages(e)})");
            }

            int? status;
            try
            {
                status = await RequestAsync(tls, edge, material, attempt.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (AlertIn(e) is { } alert)
            {
                return ProbeOutcome.Trust($"{server} rejected {edge.Client} after the TLS handshake with \"{alert}\"{Presented(material)}");
            }
            catch (Exception e) when (e is IOException or SocketException && !attempt.IsCancellationRequested)
            {
                status = null;
            }
            if (status is null)
            {
                if (material.ClientCertificate is not null && await ClosesRightAfterHandshakeAsync(edge, material, ct).ConfigureAwait(false))
                    return ProbeOutcome.Trust($"{server} closed the connection right after the TLS handshake, twice: it rejects the client certificate of {edge.Client}{Presented(material)}");
                return ProbeOutcome.Unavailable($"{server} closed the connection before answering");
            }
            return status.Value switch
            {
                401 => ProbeOutcome.Trust($"{server} answered 401 Unauthorized: it does not accept the credentials of {edge.Client}{Presented(material)}", 401),
                429 or >= 500 => ProbeOutcome.Unavailable($"{server} answered {status.Value}", status.Value),
                _ => ProbeOutcome.Answered(status.Value),
            };
        }
        catch (SocketException e)
        {
            return ProbeOutcome.Unavailable(e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"{server} refused the connection",
                SocketError.TimedOut => $"{server} did not accept a connection in time",
                SocketError.ConnectionReset => $"{server} reset the connection",
                _ => $"{server} could not be reached: {e.Message}",
            });
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ProbeOutcome.Unavailable($"{server} did not answer within {Timeout.TotalSeconds:0.#} seconds");
        }
    }

    private static async Task<Socket> ConnectAsync(Uri url, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(url.Host, url.Port, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private SslClientAuthenticationOptions Options(TrustEdge edge, EdgeMaterial material, Action<string?> serverProblem)
    {
        return new SslClientAuthenticationOptions
        {
            TargetHost = edge.Credentials.ServerName ?? edge.Url.IdnHost,
            CertificateChainPolicy = HandshakeChainPolicy.Trusting(material.Roots), // no revocation check, no machine store
            // A certificate context is offered whatever issuers the server asks for, as Go clients do with a single
            // certificate, so that a server that does not trust it rejects it rather than seeing none.
            ClientCertificateContext = material.ClientContext,
            RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                if (material.CheckServer is null) return true;
                var problem = material.CheckServer(cert, chain, errors, time.GetUtcNow());
                serverProblem(problem);
                return problem is null;
            },
        };
    }

    private static async Task<int?> RequestAsync(SslStream tls, TrustEdge edge, EdgeMaterial material, CancellationToken ct)
    {
        var request = new StringBuilder()
            .Append("GET ").Append(edge.Url.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(edge.Url.Authority).Append("\r\n")
            .Append("User-Agent: kube-ca-rotate-prober\r\nAccept: application/json\r\nConnection: close\r\n");
        if (material.Token is { } token) request.Append("Authorization: Bearer ").Append(token).Append("\r\n");
        if (edge.Credentials.ProxiedUser is { } user) request.Append("X-Remote-User: ").Append(user).Append("\r\nX-Remote-Group: system:authenticated\r\n");
        request.Append("\r\n");
        await tls.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), ct).ConfigureAwait(false);
        await tls.FlushAsync(ct).ConfigureAwait(false);
        var buffer = new byte[512];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await tls.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false);
            if (n == 0) break;
            filled += n;
            var line = Encoding.ASCII.GetString(buffer, 0, filled);
            var end = line.IndexOf("\r\n", StringComparison.Ordinal);
            if (end < 0) continue;
            var parts = line[..end].Split(' ', 3);
            return parts.Length >= 2 && int.TryParse(parts[1], out var status) ? status : throw new IOException($"{edge.Server} answered with \"{line[..end]}\", not an HTTP status line.");
        }
        return null;
    }

    /// <summary>A fresh handshake that sends nothing: true when the server closes (or alerts) at once, as one rejecting our certificate does.</summary>
    private async Task<bool> ClosesRightAfterHandshakeAsync(TrustEdge edge, EdgeMaterial material, CancellationToken ct)
    {
        var (verdict, _) = await ClientCertificateRejection.SecondHandshakeAsync(edge.Url.Host, edge.Url.Port, Options(edge, material, _ => { }), Timeout, RejectionWait, ct).ConfigureAwait(false);
        return verdict == ClientCertificateVerdict.Rejected;
    }

    private static string Presented(EdgeMaterial material) =>
        material.ClientCertificate is { } c ? $" (client certificate \"{c.Subject}\" issued by \"{c.Issuer}\")" : "";

    private static string? AlertIn(Exception e) => ClientCertificateRejection.AlertIn(e);

    private static string Messages(Exception e) => ClientCertificateRejection.Messages(e);
}
