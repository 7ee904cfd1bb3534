using System.Net;
using System.Net.Sockets;
using KubeCaRotate.Lab.Etcd;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Tests.Etcd;

[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdTlsTests(EtcdClusterFixture cluster) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kcr-etcd-tls-").FullName;

    [Fact]
    public async Task A_client_certificate_from_a_foreign_CA_is_rejected_and_the_error_says_so()
    {
        using var foreign = TestCertificateAuthority.Create("someone-else");
        var (cert, key) = foreign.WritePair(Path.Combine(_dir, "foreign-client"), "intruder", serverAuth: false, clientAuth: true);
        using var store = cluster.NewStore(cert, key, cluster.ClientCaFile, 0);

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("/registry/x", CancellationToken.None));

        Assert.StartsWith($"etcd at {cluster.Members[0].ClientUrl} rejected our client certificate", e.Message);
        Assert.Contains("someone-else", e.Message);
    }

    [Fact]
    public async Task With_every_member_refusing_the_error_names_each_member()
    {
        using var foreign = TestCertificateAuthority.Create("someone-else");
        var (cert, key) = foreign.WritePair(Path.Combine(_dir, "foreign-client"), "intruder", serverAuth: false, clientAuth: true);
        using var store = cluster.NewStore(cert, key, cluster.ClientCaFile);

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.ListAsync("/registry/", CancellationToken.None));

        Assert.StartsWith("No etcd member could serve the request", e.Message);
        foreach (var m in cluster.Members) Assert.Contains($"etcd at {m.ClientUrl} rejected our client certificate", e.Message);
    }

    [Fact]
    public async Task A_serving_certificate_from_a_CA_we_do_not_trust_is_refused_and_the_error_names_our_CA_file()
    {
        using var foreign = TestCertificateAuthority.Create("not-the-etcd-ca");
        var caFile = Path.Combine(_dir, "wrong-ca.crt");
        foreign.WriteCertificate(caFile);
        using var store = cluster.NewStore(cluster.ClientCertFile, cluster.ClientKeyFile, caFile, 1);

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("/registry/x", CancellationToken.None));

        Assert.Equal($"etcd at {cluster.Members[1].ClientUrl} could not be trusted: its serving certificate (issuer \"CN=etcd-ca\") is not signed by a CA in {caFile}.", e.Message);
    }

    [Fact]
    public async Task A_member_that_is_not_listening_is_reported_as_refusing_the_connection()
    {
        var port = UnusedPort();
        using var store = new EtcdObjectStore(EtcdClientSettings.FromFlags($"https://127.0.0.1:{port}", cluster.ClientCaFile, cluster.ClientCertFile, cluster.ClientKeyFile));

        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("/registry/x", CancellationToken.None));

        Assert.Equal($"etcd at https://127.0.0.1:{port} refused the connection (is the member running?).", e.Message);
    }

    [Theory]
    [InlineData(KeyFormat.RsaPkcs1, "-----BEGIN RSA PRIVATE KEY-----")]
    [InlineData(KeyFormat.Sec1, "-----BEGIN EC PRIVATE KEY-----")]
    [InlineData(KeyFormat.Pkcs8, "-----BEGIN PRIVATE KEY-----")]
    public async Task Client_keys_in_every_format_kubeadm_writes_are_accepted(KeyFormat format, string header)
    {
        var (cert, key) = cluster.Ca.WritePair(Path.Combine(_dir, $"client-{format}"), "apiserver-etcd-client", serverAuth: false, clientAuth: true, format);
        Assert.StartsWith(header, await File.ReadAllTextAsync(key));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using var store = cluster.NewStore(cert, key, cluster.ClientCaFile);

        var key1 = $"/registry/tls-{Guid.NewGuid():N}";
        await store.CreateAsync(key1, [1], CancellationToken.None);
        Assert.NotNull(await store.GetAsync(key1, CancellationToken.None));
    }

    [Fact]
    public async Task The_client_certificate_and_trust_are_read_once_when_the_store_is_built()
    {
        var certFile = Path.Combine(_dir, "c.crt");
        var keyFile = Path.Combine(_dir, "c.key");
        var caFile = Path.Combine(_dir, "ca.crt");
        File.Copy(cluster.ClientCertFile, certFile);
        File.Copy(cluster.ClientKeyFile, keyFile);
        File.Copy(cluster.ClientCaFile, caFile);
        using var store = cluster.NewStore(certFile, keyFile, caFile, 0);
        await store.ListAsync("/registry/", CancellationToken.None);

        // Replace every file with material etcd does not accept: the running store keeps what it loaded.
        using var foreign = TestCertificateAuthority.Create("someone-else");
        foreign.WritePair(Path.Combine(_dir, "c"), "intruder", serverAuth: false, clientAuth: true);
        foreign.WriteCertificate(caFile);
        var key = $"/registry/tls-{Guid.NewGuid():N}";
        await store.CreateAsync(key, [1], CancellationToken.None);

        using var rebuilt = cluster.NewStore(certFile, keyFile, caFile, 0);
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => rebuilt.GetAsync(key, CancellationToken.None));
        Assert.Contains("could not be trusted", e.Message);
    }

    [Fact]
    public void Unreadable_client_files_are_named_in_the_error()
    {
        var missing = Path.Combine(_dir, "missing.key");
        var e = Assert.Throws<InvalidDataException>(() => cluster.NewStore(cluster.ClientCertFile, missing, cluster.ClientCaFile));
        Assert.Contains(missing, e.Message);
        Assert.Contains(cluster.ClientCertFile, e.Message);

        var empty = Path.Combine(_dir, "empty.crt");
        File.WriteAllText(empty, "");
        var e2 = Assert.Throws<InvalidDataException>(() => cluster.NewStore(cluster.ClientCertFile, cluster.ClientKeyFile, empty));
        Assert.Equal($"The etcd CA bundle {empty} holds no PEM certificate; point --etcd-cafile at the etcd CA certificate.", e2.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int UnusedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
