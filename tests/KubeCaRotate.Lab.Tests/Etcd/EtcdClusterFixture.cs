using System.Net;
using System.Net.Sockets;
using KubeCaRotate.Lab.Etcd;

namespace KubeCaRotate.Lab.Tests.Etcd;

[CollectionDefinition(Name)]
public sealed class EtcdClusterCollection : ICollectionFixture<EtcdClusterFixture>
{
    public const string Name = "real etcd cluster";
}

/// <summary>
/// A real 3-member etcd cluster on loopback, shared by the etcd tests: client and peer TLS with client-certificate
/// authentication on both, every member with its own copy of the CA file (as every control-plane node has).
/// </summary>
public sealed class EtcdClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly List<ClusterMember> _members = [];

    public string Root { get; } = Directory.CreateTempSubdirectory("kcr-etcd-").FullName;

    internal TestCertificateAuthority Ca { get; } = TestCertificateAuthority.Create("etcd-ca");

    public IReadOnlyList<ClusterMember> Members => _members;

    /// <summary>The client side's CA bundle, certificate and key (like apiserver-etcd-client).</summary>
    public string ClientCaFile => Path.Combine(Root, "client", "ca.crt");

    public string ClientCertFile => Path.Combine(Root, "client", "client.crt");

    public string ClientKeyFile => Path.Combine(Root, "client", "client.key");

    public string Servers => string.Join(',', _members.Select(m => m.ClientUrl));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "client"));
        Ca.WriteCertificate(ClientCaFile);
        Ca.WritePair(Path.Combine(Root, "client", "client"), "kube-apiserver-etcd-client", serverAuth: false, clientAuth: true);

        var ports = FreePorts(9);
        for (var i = 0; i < 3; i++)
        {
            _members.Add(new ClusterMember($"m{i}", Path.Combine(Root, $"m{i}"), ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]));
        }
        var initialCluster = string.Join(',', _members.Select(m => $"{m.Name}={m.PeerUrl}"));
        foreach (var m in _members)
        {
            Directory.CreateDirectory(m.PkiDir);
            Ca.WriteCertificate(m.TrustedCaFile);
            Ca.WritePair(Path.Combine(m.PkiDir, "server"), m.Name, serverAuth: true, clientAuth: true);
            Ca.WritePair(Path.Combine(m.PkiDir, "peer"), m.Name, serverAuth: true, clientAuth: true);
            m.Arguments = m.BuildArguments(initialCluster);
        }
        foreach (var m in _members) await m.StartAsync();
        await Task.WhenAll(_members.Select(m => m.Running!.WaitHealthyAsync(StartTimeout, CancellationToken.None)));
    }

    public EtcdObjectStore NewStore(params int[] members) => NewStore(ClientCertFile, ClientKeyFile, ClientCaFile, members);

    public EtcdObjectStore NewStore(string certFile, string keyFile, string caFile, params int[] members)
    {
        var servers = members.Length == 0 ? Servers : string.Join(',', members.Select(i => _members[i].ClientUrl));
        return new EtcdObjectStore(EtcdClientSettings.FromFlags(servers, caFile, certFile, keyFile) with
        {
            RequestTimeout = TimeSpan.FromSeconds(15),
            WatchReconnectWindow = TimeSpan.FromSeconds(30),
        });
    }

    public async Task StopMemberAsync(int i)
    {
        var m = _members[i];
        await m.Running!.StopAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        m.Running.Dispose();
        m.Running = null;
    }

    public async Task StartMemberAsync(int i)
    {
        await _members[i].StartAsync();
        await _members[i].Running!.WaitHealthyAsync(StartTimeout, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var m in _members.Where(m => m.Running is not null))
        {
            await m.Running!.StopAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            m.Running.Dispose();
        }
        Ca.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp directory is harmless
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }
}

public sealed class ClusterMember(string name, string dir, int clientPort, int peerPort, int metricsPort)
{
    public string Name { get; } = name;

    public string Dir { get; } = dir;

    public string PkiDir => Path.Combine(Dir, "pki");

    /// <summary>This member's --trusted-ca-file (also its --peer-trusted-ca-file).</summary>
    public string TrustedCaFile => Path.Combine(PkiDir, "ca.crt");

    public string ClientUrl { get; } = $"https://127.0.0.1:{clientPort}";

    public string PeerUrl { get; } = $"https://127.0.0.1:{peerPort}";

    public string MetricsUrl { get; } = $"http://127.0.0.1:{metricsPort}";

    public IReadOnlyList<string> Arguments { get; set; } = [];

    public EtcdMember? Running { get; set; }

    public async Task StartAsync() =>
        Running = await EtcdMember.StartAsync(new EtcdMemberSpec(Arguments, Path.Combine(Dir, "etcd.log"), Path.Combine(Dir, "etcd.pid")), CancellationToken.None);

    // The flags kubeadm's etcd.yaml carries, with the lab's loopback addresses.
    public IReadOnlyList<string> BuildArguments(string initialCluster) =>
    [
        $"--name={Name}",
        $"--data-dir={Path.Combine(Dir, "data")}",
        $"--listen-client-urls={ClientUrl}",
        $"--advertise-client-urls={ClientUrl}",
        $"--listen-peer-urls={PeerUrl}",
        $"--initial-advertise-peer-urls={PeerUrl}",
        $"--initial-cluster={initialCluster}",
        "--initial-cluster-state=new",
        "--initial-cluster-token=kcr-test",
        $"--listen-metrics-urls={MetricsUrl}",
        $"--cert-file={Path.Combine(PkiDir, "server.crt")}",
        $"--key-file={Path.Combine(PkiDir, "server.key")}",
        $"--trusted-ca-file={TrustedCaFile}",
        "--client-cert-auth=true",
        $"--peer-cert-file={Path.Combine(PkiDir, "peer.crt")}",
        $"--peer-key-file={Path.Combine(PkiDir, "peer.key")}",
        $"--peer-trusted-ca-file={TrustedCaFile}",
        "--peer-client-cert-auth=true",
        "--snapshot-count=10000",
        "--logger=zap",
        "--log-outputs=stderr",
    ];
}
