namespace KubeCaRotate.Lab.Tests.Etcd;

[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdClusterTests(EtcdClusterFixture cluster)
{
    [Fact]
    public async Task Etcdctl_reports_every_member_healthy_over_mutual_TLS()
    {
        var all = await Etcdctl.RunAsync(cluster, ["endpoint", "health", "--cluster"]);
        Assert.Equal(3, EtcdMemberTrustTests.CountHealthy(all));
        foreach (var m in cluster.Members)
        {
            var one = await Etcdctl.RunAsync(cluster, ["endpoint", "health"], m.ClientUrl);
            Assert.Contains($"{m.ClientUrl} is healthy", one);
        }
        var members = await Etcdctl.RunAsync(cluster, ["member", "list"]);
        foreach (var m in cluster.Members) Assert.Contains(m.PeerUrl, members);
    }

    [Fact]
    public async Task Requests_fail_over_to_another_member_while_one_is_stopped()
    {
        using var store = cluster.NewStore(0, 1, 2);
        var key = $"/registry/failover-{Guid.NewGuid():N}";
        var created = await store.CreateAsync(key, [1], CancellationToken.None);

        await cluster.StopMemberAsync(0);
        try
        {
            Assert.False(cluster.Members[0].Running is { IsRunning: true });
            var updated = await store.UpdateAsync(key, [2], created.ModRevision, CancellationToken.None);
            Assert.Equal([2], (await store.GetAsync(key, CancellationToken.None))!.Value);
            var listed = await store.ListAsync("/registry/failover-", CancellationToken.None);
            Assert.Contains(key, listed.Items.Select(i => i.Key));
            await store.DeleteAsync(key, updated.ModRevision, CancellationToken.None);
        }
        finally
        {
            await cluster.StartMemberAsync(0);
        }
        Assert.Null(await store.GetAsync(key, CancellationToken.None));
    }
}
