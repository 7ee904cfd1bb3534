using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using KubeCaRotate.Lab.Tls;

namespace KubeCaRotate.Lab.Endpoint;

/// <summary>
/// The HA endpoint of the lab, what haproxy or kube-vip is in front of a kubeadm control plane: a TCP proxy
/// on the controlPlaneEndpoint that sends each new connection to a healthy API server. Health is checked the way
/// haproxy's "check-ssl verify none" with "GET /readyz" does: a TLS handshake without verifying the server, and a
/// 200 answer. A backend that fails is taken out of rotation until it answers again, so a restarting API server
/// receives no new connections. As with haproxy's "fall"/"rise", a backend goes out after <see cref="Fall"/> failed checks
/// in a row and back in after <see cref="Rise"/> good ones, so one slow check on a loaded machine does not take it out.
/// TLS passes through untouched: clients see the API servers' own certificates.
/// </summary>
public sealed class LoadBalancer(IPEndPoint listen, IReadOnlyList<IPEndPoint> backends, TimeSpan checkInterval, TextWriter log)
{
    public const int Fall = 2;
    public const int Rise = 2;

    private readonly bool[] _healthy = new bool[backends.Count];
    private readonly int[] _streak = new int[backends.Count];
    private int _next;

    public IReadOnlyList<bool> Healthy => _healthy;

    public async Task RunAsync(CancellationToken ct)
    {
        using var listener = new TcpListener(listen);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(512);
        log.WriteLine($"load balancer listening on {listen}, backends {string.Join(", ", backends)}");
        var checks = CheckLoopAsync(ct);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(ct).ConfigureAwait(false);
                _ = ProxyAsync(client, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await checks.ConfigureAwait(false);
    }

    private async Task CheckLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(checkInterval);
        var first = true;
        do
        {
            var results = await Task.WhenAll(backends.Select(b => CheckAsync(b, ct))).ConfigureAwait(false);
            for (var i = 0; i < results.Length; i++)
            {
                // A streak counts the checks in a row that disagree with the backend's state; the first round decides at once.
                _streak[i] = results[i] == _healthy[i] ? 0 : _streak[i] + 1;
                if (_streak[i] < (results[i] ? Rise : Fall) && !first) continue;
                if (_healthy[i] != results[i]) log.WriteLine($"{DateTimeOffset.UtcNow:O} backend {backends[i]} {(results[i] ? "UP" : "DOWN")}");
                _healthy[i] = results[i];
                _streak[i] = 0;
            }
            first = false;
        }
        while (await Tick(timer, ct).ConfigureAwait(false));
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> CheckAsync(IPEndPoint backend, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(backend, timeout.Token).ConfigureAwait(false);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            var options = new SslClientAuthenticationOptions { TargetHost = backend.Address.ToString(), CertificateChainPolicy = HandshakeChainPolicy.Trusting() };
            await tls.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
            var request = Encoding.ASCII.GetBytes($"GET /readyz HTTP/1.1\r\nHost: {backend}\r\nConnection: close\r\n\r\n");
            await tls.WriteAsync(request, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[64];
            var read = await tls.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    private IPEndPoint? PickBackend()
    {
        for (var tries = 0; tries < backends.Count; tries++)
        {
            var i = (int)((uint)Interlocked.Increment(ref _next) % (uint)backends.Count);
            if (_healthy[i]) return backends[i];
        }
        return null;
    }

    private async Task ProxyAsync(TcpClient client, CancellationToken ct)
    {
        using (client)
        {
            // A backend that refuses the connection (an API server that just stopped listening) is taken out at once
            // and the next healthy one is tried, as haproxy does with "retries" and "option redispatch".
            TcpClient? upstream = null;
            for (var attempt = 0; attempt < backends.Count && upstream is null; attempt++)
            {
                var backend = PickBackend();
                if (backend is null) return; // no healthy API server: the client sees the connection closed, as with haproxy
                var candidate = new TcpClient();
                try
                {
                    await candidate.ConnectAsync(backend, ct).ConfigureAwait(false);
                    upstream = candidate;
                }
                catch (SocketException)
                {
                    candidate.Dispose();
                    var i = IndexOf(backend);
                    if (i >= 0) (_healthy[i], _streak[i]) = (false, 0);
                }
                catch (OperationCanceledException)
                {
                    candidate.Dispose();
                    return;
                }
            }
            if (upstream is null) return;
            using (upstream)
            {
                try
                {
                    client.NoDelay = true;
                    upstream.NoDelay = true;
                    var a = client.GetStream();
                    var b = upstream.GetStream();
                    // Each direction runs until its source closes, then half-closes the other side; an error on either
                    // side tears both down, as a TCP proxy does.
                    await Task.WhenAll(PumpAsync(a, b, client, upstream, ct), PumpAsync(b, a, client, upstream, ct)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                {
                }
            }
        }
    }

    private int IndexOf(IPEndPoint backend)
    {
        for (var i = 0; i < backends.Count; i++)
            if (backends[i].Equals(backend)) return i;
        return -1;
    }

    private static async Task PumpAsync(NetworkStream from, NetworkStream to, TcpClient one, TcpClient other, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                await to.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            to.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            one.Close();
            other.Close();
        }
    }
}
