using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Tests.ApiServer;

namespace KubeCaRotate.Lab.Tests.Tls;

/// <summary>
/// The prober hands SslStream a chain policy that keeps it away from the machine's stores (HandshakeChainPolicy). That
/// must not change what it judges: the certificates a server sent after its leaf (a cross-signed CA during a rotation)
/// still reach the check, and only that server's, never those of an earlier handshake. Real handshakes on loopback.
/// </summary>
public sealed class HandshakeChainPolicyTests
{
    [Fact]
    public async Task TheProberTrustsThroughWhatEachServerSentAndNothingElse()
    {
        var oldCa = TestCa.Create("kubernetes");
        var newCa = TestCa.Create("kubernetes");
        var crossSigned = CrossSign(newCa, oldCa);
        var (leaf, key) = newCa.Issue("kube-apiserver", server: true);
        var serving = leaf.CopyWithPrivateKey(key);
        var material = new EdgeMaterial(null, null, (cert, chain, errors, now) => ServerCertificateCheck.Check([oldCa.Certificate], "the old CA", cert, chain, errors, now), [oldCa.Certificate]);

        // A server that sends its leaf and the new CA signed by the old one, as kube-apiserver does mid-rotation...
        var withCrossSigned = await ProbeAsync(SslStreamCertificateContext.Create(serving, [crossSigned], offline: true), material);
        Assert.True(withCrossSigned.Ok, withCrossSigned.Error);
        Assert.Equal(200, withCrossSigned.Status);

        // ...then the same leaf alone: a client trusting only the old CA must not trust it, whatever it was sent before.
        var leafAlone = await ProbeAsync(SslStreamCertificateContext.Create(serving, [], offline: true), material);
        Assert.False(leafAlone.Ok);
        Assert.Equal(FailureClass.Trust, leafAlone.Class);
        Assert.Contains("does not chain to a CA in the old CA", leafAlone.Error);
    }

    private static X509Certificate2 CrossSign(TestCa subject, TestCa issuer)
    {
        var request = new CertificateRequest(subject.Certificate.SubjectName, subject.Key, HashAlgorithmName.SHA256);
        foreach (var extension in subject.Certificate.Extensions) request.CertificateExtensions.Add(extension);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        return request.Create(issuer.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(issuer.Key), now.AddMinutes(-5), now.AddMonths(6), [0x42, 0x01]);
    }

    /// <summary>One prober attempt against a loopback server that completes the handshake and answers 200.</summary>
    private static async Task<ProbeOutcome> ProbeAsync(SslStreamCertificateContext server, EdgeMaterial material)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverSide = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(accepted.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = server });
                var buffer = new byte[4096];
                while (!Encoding.ASCII.GetString(buffer).Contains("\r\n\r\n") && await tls.ReadAsync(buffer) > 0) { }
                await tls.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                // the prober rejected our certificate: some cases expect that
            }
        });
        var edge = new TrustEdge(EdgeKind.Admin, "admin", "test/kube-apiserver", new Uri($"https://127.0.0.1:{port}/api"), new EdgeCredentials());
        var outcome = await new TlsProbe(TimeProvider.System) { Timeout = TimeSpan.FromMinutes(2) }.RunAsync(edge, material, CancellationToken.None);
        await serverSide;
        return outcome;
    }
}
