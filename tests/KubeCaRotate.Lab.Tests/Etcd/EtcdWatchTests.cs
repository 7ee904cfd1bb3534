using System.Diagnostics;
using System.Text;
using KubeCaRotate.Lab.Etcd;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.Tests.Etcd;

[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdWatchTests(EtcdClusterFixture cluster)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly string _prefix = $"/registry/watch-{Guid.NewGuid():N}/";

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Watch_sees_puts_and_deletes_in_order_with_the_last_value_of_a_delete()
    {
        using var store = cluster.NewStore();
        var start = (await store.ListAsync(_prefix, CancellationToken.None)).Revision;
        var a = await store.CreateAsync(_prefix + "a", Bytes("a1"), CancellationToken.None);
        var a2 = await store.UpdateAsync(_prefix + "a", Bytes("a2"), a.ModRevision, CancellationToken.None);
        await store.CreateAsync(_prefix + "b", Bytes("b1"), CancellationToken.None);
        await store.DeleteAsync(_prefix + "a", null, CancellationToken.None);
        await store.CreateAsync("/registry/elsewhere-" + Guid.NewGuid(), Bytes("not mine"), CancellationToken.None);

        var events = await TakeAsync(store.WatchAsync(_prefix, start, CancellationToken.None), 4);

        Assert.Equal(
            ["Put a a1 created", "Put a a2", "Put b b1 created", "Delete a a2"],
            events.Select(e => $"{e.Type} {e.Object.Key[_prefix.Length..]} {Encoding.UTF8.GetString(e.Object.Value)}{(e.Created ? " created" : "")}"));
        Assert.Equal(a2.ModRevision, events[1].Object.ModRevision);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Object.ModRevision < p.Second.Object.ModRevision));
    }

    [Fact]
    public async Task Watch_resumes_on_another_member_when_its_member_stops_without_losing_or_repeating_events()
    {
        // The watching store knows members 1 and 0 and starts on 1; the writer talks to member 2.
        using var watcher = cluster.NewStore(1, 0);
        using var writer = cluster.NewStore(2);
        var start = (await writer.ListAsync(_prefix, CancellationToken.None)).Revision;
        using var cts = new CancellationTokenSource(Generous);
        await using var events = watcher.WatchAsync(_prefix, start, cts.Token).GetAsyncEnumerator(cts.Token);

        await writer.CreateAsync(_prefix + "1", Bytes("one"), CancellationToken.None);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(_prefix + "1", events.Current.Object.Key);

        await cluster.StopMemberAsync(1);
        try
        {
            for (var i = 2; i <= 4; i++) await writer.CreateAsync(_prefix + i, Bytes("n"), CancellationToken.None);
            var seen = new List<string>();
            for (var i = 2; i <= 4; i++)
            {
                Assert.True(await events.MoveNextAsync());
                seen.Add(events.Current.Object.Key);
            }
            Assert.Equal([_prefix + "2", _prefix + "3", _prefix + "4"], seen);
        }
        finally
        {
            await cluster.StartMemberAsync(1);
        }
    }

    [Fact]
    public async Task Watch_from_a_compacted_revision_says_so()
    {
        using var store = cluster.NewStore();
        var old = await store.CreateAsync(_prefix + "x", Bytes("1"), CancellationToken.None);
        var now = await store.UpdateAsync(_prefix + "x", Bytes("2"), old.ModRevision, CancellationToken.None);
        await Etcdctl.RunAsync(cluster, ["compact", now.ModRevision.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        using var cts = new CancellationTokenSource(Generous);
        var e = await Assert.ThrowsAsync<WatchRevisionCompactedException>(() => TakeAsync(store.WatchAsync(_prefix, old.ModRevision - 1, cts.Token), 1));
        Assert.Equal(now.ModRevision, e.CompactRevision);
    }

    private static async Task<List<StoreEvent>> TakeAsync(IAsyncEnumerable<StoreEvent> watch, int count)
    {
        var list = new List<StoreEvent>();
        using var cts = new CancellationTokenSource(Generous);
        await foreach (var e in watch.WithCancellation(cts.Token))
        {
            list.Add(e);
            if (list.Count == count) break;
        }
        return list;
    }
}
