using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Tests.Etcd;

/// <summary>etcd reads --trusted-ca-file once at start (etcd-io/etcd#11555): replacing it does nothing until a restart.</summary>
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdMemberTrustTests(EtcdClusterFixture cluster)
{
    [Fact]
    public async Task A_new_CA_in_the_trusted_ca_file_counts_only_after_the_member_restarts()
    {
        const int member = 2;
        var m = cluster.Members[member];
        using var newCa = TestCertificateAuthority.Create("etcd-ca-next");
        var dir = Directory.CreateTempSubdirectory("kcr-etcd-trust-").FullName;
        try
        {
            var (cert, key) = newCa.WritePair(Path.Combine(dir, "client"), "apiserver-etcd-client", serverAuth: false, clientAuth: true);
            var pidBefore = m.Running!.Pid;

            using (var store = cluster.NewStore(cert, key, cluster.ClientCaFile, member))
            {
                var before = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("/registry/x", CancellationToken.None));
                Assert.Contains("rejected our client certificate", before.Message);
            }

            // The rotation's first step on disk: the bundle now holds the old and the new CA.
            await File.WriteAllTextAsync(m.TrustedCaFile, cluster.Ca.Certificate.ExportCertificatePem() + "\n" + newCa.Certificate.ExportCertificatePem() + "\n");

            using (var store = cluster.NewStore(cert, key, cluster.ClientCaFile, member))
            {
                var still = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync("/registry/x", CancellationToken.None));
                Assert.Contains($"etcd at {m.ClientUrl} rejected our client certificate", still.Message);
            }
            Assert.Equal(pidBefore, m.Running.Pid);

            await cluster.StopMemberAsync(member);
            await cluster.StartMemberAsync(member);
            Assert.NotEqual(pidBefore, cluster.Members[member].Running!.Pid);

            using (var store = cluster.NewStore(cert, key, cluster.ClientCaFile, member))
            {
                var k = $"/registry/trust-{Guid.NewGuid():N}";
                await store.CreateAsync(k, [42], CancellationToken.None);
                Assert.Equal([42], (await store.GetAsync(k, CancellationToken.None))!.Value);
            }
            // The old CA is still in the bundle: the old client and the peers keep working.
            using (var store = cluster.NewStore(member))
            {
                await store.ListAsync("/registry/", CancellationToken.None);
            }
            Assert.Equal(3, CountHealthy(await Etcdctl.RunAsync(cluster, ["endpoint", "health", "--cluster"])));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static int CountHealthy(string etcdctlOutput) =>
        etcdctlOutput.Split('\n').Count(l => l.Contains("is healthy", StringComparison.Ordinal));
}
