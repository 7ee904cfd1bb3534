using System.Text;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Tests.ApiServer;

public sealed class InMemoryObjectStoreTests
{
    private static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task OneRevisionCounterForTheWholeStore()
    {
        var store = new InMemoryObjectStore();
        var a = await store.CreateAsync("/registry/a/x", V("1"), default);
        var b = await store.CreateAsync("/registry/b/y", V("2"), default);
        var a2 = await store.UpdateAsync(a.Key, V("3"), a.ModRevision, default);
        Assert.True(a.ModRevision < b.ModRevision && b.ModRevision < a2.ModRevision);
        var list = await store.ListAsync("/registry/", default);
        Assert.Equal(a2.ModRevision, list.Revision);
        Assert.Equal(["/registry/a/x", "/registry/b/y"], list.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task StaleRevisionsAndDuplicatesConflict()
    {
        var store = new InMemoryObjectStore();
        var a = await store.CreateAsync("/k", V("1"), default);
        await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateAsync("/k", V("2"), default));
        await store.UpdateAsync("/k", V("2"), a.ModRevision, default);
        await Assert.ThrowsAsync<StoreConflictException>(() => store.UpdateAsync("/k", V("3"), a.ModRevision, default));
        await Assert.ThrowsAsync<StoreConflictException>(() => store.DeleteAsync("/k", a.ModRevision, default));
        await store.DeleteAsync("/k", null, default);
        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.DeleteAsync("/k", null, default));
        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.UpdateAsync("/k", V("4"), 0, default));
    }

    [Fact]
    public async Task WatchReplaysHistoryAfterARevisionThenFollows()
    {
        var store = new InMemoryObjectStore();
        var first = await store.CreateAsync("/w/a", V("1"), default);
        await store.CreateAsync("/other/z", V("x"), default);
        await store.UpdateAsync("/w/a", V("2"), first.ModRevision, default);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<(StoreEventType, string, bool)>();
        var watch = Task.Run(async () =>
        {
            await foreach (var e in store.WatchAsync("/w/", first.ModRevision, cts.Token))
            {
                seen.Add((e.Type, Encoding.UTF8.GetString(e.Object.Value), e.Created));
                if (seen.Count == 3)
                    break;
            }
        });
        await store.CreateAsync("/w/b", V("3"), default);
        await store.DeleteAsync("/w/a", null, default);
        await watch.WaitAsync(cts.Token);
        Assert.Equal([(StoreEventType.Put, "2", false), (StoreEventType.Put, "3", true), (StoreEventType.Delete, "2", false)], seen);
    }
}
