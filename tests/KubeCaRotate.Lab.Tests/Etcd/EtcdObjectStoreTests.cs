using System.Text;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Tests.Etcd;

[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdObjectStoreTests(EtcdClusterFixture cluster)
{
    private readonly string _prefix = $"/registry/test-{Guid.NewGuid():N}/";

    private static byte[] Json(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Create_get_update_delete_follow_etcd_revisions()
    {
        using var store = cluster.NewStore();
        var key = _prefix + "default/a";

        var created = await store.CreateAsync(key, Json("{\"v\":1}"), CancellationToken.None);
        var read = await store.GetAsync(key, CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(created.ModRevision, read.ModRevision);
        Assert.Equal("{\"v\":1}", Encoding.UTF8.GetString(read.Value));

        var updated = await store.UpdateAsync(key, Json("{\"v\":2}"), created.ModRevision, CancellationToken.None);
        Assert.True(updated.ModRevision > created.ModRevision);
        Assert.Equal("{\"v\":2}", Encoding.UTF8.GetString((await store.GetAsync(key, CancellationToken.None))!.Value));

        await store.DeleteAsync(key, updated.ModRevision, CancellationToken.None);
        Assert.Null(await store.GetAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task A_page_is_a_limited_range_from_a_start_key_read_at_a_revision_with_the_keys_count_and_whether_more_follow()
    {
        using var store = cluster.NewStore();
        foreach (var name in new[] { "a", "b", "c", "d", "e" })
            await store.CreateAsync(_prefix + "ns/" + name, Json(name), CancellationToken.None);

        var first = await store.ListPageAsync(_prefix, null, 2, 0, CancellationToken.None);
        Assert.Equal([_prefix + "ns/a", _prefix + "ns/b"], first.Items.Select(i => i.Key));
        Assert.True(first.More);
        Assert.Equal(5, first.Count);

        await store.CreateAsync(_prefix + "ns/bb", Json("bb"), CancellationToken.None);
        await store.DeleteAsync(_prefix + "ns/e", null, CancellationToken.None);
        var second = await store.ListPageAsync(_prefix, _prefix + "ns/b\0", 2, first.Revision, CancellationToken.None);
        Assert.Equal([_prefix + "ns/c", _prefix + "ns/d"], second.Items.Select(i => i.Key)); // as at the first page's revision
        Assert.Equal(first.Revision, second.Revision);
        Assert.True(second.More);
        Assert.Equal(3, second.Count);

        var latest = await store.ListPageAsync(_prefix, _prefix + "ns/b\0", 0, 0, CancellationToken.None);
        Assert.Equal([_prefix + "ns/bb", _prefix + "ns/c", _prefix + "ns/d"], latest.Items.Select(i => i.Key));
        Assert.False(latest.More);
        Assert.True(latest.Revision > first.Revision);
    }

    [Fact]
    public async Task Conflicts_and_missing_keys_are_reported_as_such()
    {
        using var store = cluster.NewStore();
        var key = _prefix + "default/b";
        var first = await store.CreateAsync(key, Json("1"), CancellationToken.None);

        await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateAsync(key, Json("again"), CancellationToken.None));
        var second = await store.UpdateAsync(key, Json("2"), first.ModRevision, CancellationToken.None);
        var stale = await Assert.ThrowsAsync<StoreConflictException>(() => store.UpdateAsync(key, Json("3"), first.ModRevision, CancellationToken.None));
        Assert.Equal(key, stale.Key);
        await Assert.ThrowsAsync<StoreConflictException>(() => store.DeleteAsync(key, first.ModRevision, CancellationToken.None));
        Assert.Equal("2", Encoding.UTF8.GetString((await store.GetAsync(key, CancellationToken.None))!.Value));

        await store.DeleteAsync(key, null, CancellationToken.None);
        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.DeleteAsync(key, null, CancellationToken.None));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.DeleteAsync(key, second.ModRevision, CancellationToken.None));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.UpdateAsync(key, Json("4"), second.ModRevision, CancellationToken.None));
    }

    [Fact]
    public async Task List_returns_exactly_the_prefix_in_key_order_with_the_read_revision()
    {
        using var store = cluster.NewStore();
        // "ns-1/" must not match "ns-10/" or "ns-1x"; the neighbours are written to prove it.
        await store.CreateAsync(_prefix + "ns-1/b", Json("b"), CancellationToken.None);
        await store.CreateAsync(_prefix + "ns-1/a", Json("a"), CancellationToken.None);
        await store.CreateAsync(_prefix + "ns-10/c", Json("c"), CancellationToken.None);
        var last = await store.CreateAsync(_prefix + "ns-1x", Json("x"), CancellationToken.None);

        var list = await store.ListAsync(_prefix + "ns-1/", CancellationToken.None);

        Assert.Equal([_prefix + "ns-1/a", _prefix + "ns-1/b"], list.Items.Select(i => i.Key));
        Assert.True(list.Revision >= last.ModRevision);
        Assert.Equal(4, (await store.ListAsync(_prefix, CancellationToken.None)).Items.Count);
        Assert.Empty((await store.ListAsync(_prefix + "none/", CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Empty_values_round_trip()
    {
        using var store = cluster.NewStore();
        var created = await store.CreateAsync(_prefix + "empty", [], CancellationToken.None);
        var read = await store.GetAsync(_prefix + "empty", CancellationToken.None);
        Assert.Equal(created.ModRevision, read!.ModRevision);
        Assert.Empty(read.Value);
    }
}
