using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace KubeCaRotate.Lab.Tls;

/// <summary>What a second, fresh handshake showed about the server's view of our client certificate.</summary>
internal enum ClientCertificateVerdict
{
    /// <summary>The server waited for our request after the handshake: it accepted the certificate.</summary>
    Accepted,

    /// <summary>The server closed at once or sent a certificate alert: it rejects the certificate.</summary>
    Rejected,

    /// <summary>The second attempt failed otherwise (refused, timed out, reset): nothing can be said.</summary>
    Unknown,
}

/// <summary>
/// How a TLS client tells "the server rejected our client certificate" from "the server went away", shared by the etcd
/// client (<see cref="Etcd.EtcdEndpoint"/>) and the prober (<see cref="Prober.TlsProbe"/>). A rejection shows either as a
/// TLS alert in the failure (<see cref="AlertIn"/>) or, with TLS 1.3 (where the client finishes its side of the handshake
/// before the server has judged its certificate) and with .NET servers even with 1.2, as a close right after a completed
/// handshake, which a dying server also produces. <see cref="SecondHandshakeAsync"/> tells them apart: a fresh handshake
/// that sends nothing and only reads; a server that accepted us waits for the request, one that rejects us closes again
/// at once.
/// </summary>
internal static class ClientCertificateRejection
{
    private static readonly string[] Alerts =
    [
        "alert bad certificate", "alert certificate required", "alert unknown ca", "alert certificate unknown", "alert certificate expired",
        "alert unsupported certificate", "alert certificate revoked", "alert access denied", "alert decrypt error", "alert handshake failure",
    ];

    /// <summary>The certificate-related TLS alert named anywhere in the exception chain, or null.</summary>
    public static string? AlertIn(Exception e)
    {
        var text = Messages(e);
        return Alerts.FirstOrDefault(a => text.Contains(a, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Every distinct message of the exception chain, joined with " | ".</summary>
    public static string Messages(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException) parts.Add(x.Message);
        return string.Join(" | ", parts.Distinct());
    }

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/>, completes a handshake with <paramref name="options"/>
    /// (within <paramref name="timeout"/>), sends nothing, and waits up to <paramref name="wait"/> for the server to close.
    /// The error is the failure the verdict rests on, when there was one.
    /// </summary>
    public static async Task<(ClientCertificateVerdict Verdict, Exception? Error)> SecondHandshakeAsync(
        string host, int port, SslClientAuthenticationOptions options, TimeSpan timeout, TimeSpan wait, CancellationToken ct)
    {
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(ct);
        probe.CancelAfter(timeout);
        var handshaken = false;
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(host, port, probe.Token).ConfigureAwait(false);
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsClientAsync(options, probe.Token).ConfigureAwait(false);
            handshaken = true;
            probe.CancelAfter(wait);
            return await tls.ReadAsync(new byte[1], probe.Token).ConfigureAwait(false) == 0
                ? (ClientCertificateVerdict.Rejected, null)
                : (ClientCertificateVerdict.Unknown, null);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // after the handshake: it waited for our request; before: it did not even answer in time
            return handshaken ? (ClientCertificateVerdict.Accepted, null) : (ClientCertificateVerdict.Unknown, e);
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException)
        {
            return (AlertIn(e) is not null ? ClientCertificateVerdict.Rejected : ClientCertificateVerdict.Unknown, e);
        }
    }
}
