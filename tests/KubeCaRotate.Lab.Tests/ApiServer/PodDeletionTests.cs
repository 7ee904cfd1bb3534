using System.Net;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>
/// Pod deletion as kube-apiserver does it: a bound pod is deleted gracefully (kept with deletionTimestamp and
/// deletionGracePeriodSeconds until its kubelet deletes it with grace 0), an unscheduled or finished one at once; a
/// terminating pod's period may only shrink; a uid precondition guards against deleting a namesake.
/// </summary>
public sealed class PodDeletionTests(StandInClusterFixture fixture) : IClassFixture<StandInClusterFixture>
{
    private StandInCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_bound_pod_is_kept_terminating_until_deleted_with_grace_zero()
    {
        await EnsureNamespaceAsync("graceful");
        var created = await Cluster.CreateAsync("/api/v1/namespaces/graceful/pods", Pod("bound", "worker-1", grace: null));
        Assert.Equal(30, (long?)created["spec"]!["terminationGracePeriodSeconds"]);
        using var client = Cluster.Client(Cluster.AdminCertificate);

        var before = DateTimeOffset.UtcNow;
        var deleted = await JsonAsync(await client.DeleteAsync("/api/v1/namespaces/graceful/pods/bound"), HttpStatusCode.OK);
        Assert.Equal(30, (long?)deleted["metadata"]!["deletionGracePeriodSeconds"]);
        var deadline = DateTimeOffset.Parse((string)deleted["metadata"]!["deletionTimestamp"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(deadline, before.AddSeconds(29), DateTimeOffset.UtcNow.AddSeconds(31));
        var still = await JsonAsync(await client.GetAsync("/api/v1/namespaces/graceful/pods/bound"), HttpStatusCode.OK);
        Assert.Equal((string?)deleted["metadata"]!["deletionTimestamp"], (string?)still["metadata"]!["deletionTimestamp"]);
        var shown = await Cluster.KubectlAsync("-n", "graceful", "get", "pod", "bound", "--no-headers");
        Assert.Contains("Terminating", shown.Stdout);

        // Deleting again with a longer (default) period changes nothing; a shorter one moves the deadline earlier.
        var again = await JsonAsync(await client.DeleteAsync("/api/v1/namespaces/graceful/pods/bound"), HttpStatusCode.OK);
        Assert.Equal((string?)still["metadata"]!["resourceVersion"], (string?)again["metadata"]!["resourceVersion"]);
        var shorter = await JsonAsync(await client.DeleteAsync("/api/v1/namespaces/graceful/pods/bound?gracePeriodSeconds=10"), HttpStatusCode.OK);
        Assert.Equal(10, (long?)shorter["metadata"]!["deletionGracePeriodSeconds"]);
        Assert.Equal(deadline.AddSeconds(-20), DateTimeOffset.Parse((string)shorter["metadata"]!["deletionTimestamp"]!, System.Globalization.CultureInfo.InvariantCulture));

        // The kubelet's delete: grace 0 in a DeleteOptions body with the pod's uid; a wrong uid is a conflict.
        var wrongUid = await DeleteWithOptionsAsync(client, "bound", new JsonObject { ["gracePeriodSeconds"] = 0, ["preconditions"] = new JsonObject { ["uid"] = "not-its-uid" } });
        Assert.Equal(HttpStatusCode.Conflict, wrongUid.StatusCode);
        Assert.Contains("Precondition failed: UID in precondition: not-its-uid", await wrongUid.Content.ReadAsStringAsync());
        var gone = await DeleteWithOptionsAsync(client, "bound", new JsonObject { ["gracePeriodSeconds"] = 0, ["preconditions"] = new JsonObject { ["uid"] = (string)created["metadata"]!["uid"]! } });
        Assert.Equal(HttpStatusCode.OK, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/graceful/pods/bound")).StatusCode);
    }

    [Fact]
    public async Task Unscheduled_and_finished_pods_and_forced_deletes_go_at_once()
    {
        await EnsureNamespaceAsync("immediate");
        using var client = Cluster.Client(Cluster.AdminCertificate);
        await Cluster.CreateAsync("/api/v1/namespaces/immediate/pods", Pod("pending", null, grace: 5));
        await JsonAsync(await client.DeleteAsync("/api/v1/namespaces/immediate/pods/pending"), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/immediate/pods/pending")).StatusCode);

        await Cluster.CreateAsync("/api/v1/namespaces/immediate/pods", Pod("done", "worker-1", grace: 5));
        var status = await client.PatchAsync("/api/v1/namespaces/immediate/pods/done/status",
            StandInCluster.Json(new JsonObject { ["status"] = new JsonObject { ["phase"] = "Succeeded" } }, "application/merge-patch+json"));
        status.EnsureSuccessStatusCode();
        await JsonAsync(await client.DeleteAsync("/api/v1/namespaces/immediate/pods/done"), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/immediate/pods/done")).StatusCode);

        // kubectl's forced delete (grace period 0 in the body) removes a bound, running pod at once.
        await Cluster.CreateAsync("/api/v1/namespaces/immediate/pods", Pod("forced", "worker-1", grace: 5));
        var forced = await Cluster.KubectlAsync("-n", "immediate", "delete", "pod", "forced", "--grace-period=0", "--force");
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/immediate/pods/forced")).StatusCode);

        // Other resources have no graceful deletion.
        await Cluster.CreateAsync("/api/v1/namespaces/immediate/configmaps", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "plain" } });
        await JsonAsync(await client.DeleteAsync("/api/v1/namespaces/immediate/configmaps/plain"), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/namespaces/immediate/configmaps/plain")).StatusCode);
    }

    private static async Task<HttpResponseMessage> DeleteWithOptionsAsync(HttpClient client, string pod, JsonObject options)
    {
        options["kind"] = "DeleteOptions";
        options["apiVersion"] = "v1";
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/namespaces/graceful/pods/{pod}") { Content = StandInCluster.Json(options, "application/json") };
        return await client.SendAsync(request);
    }

    private static async Task<JsonObject> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return (JsonObject)JsonNode.Parse(body)!;
    }

    private async Task EnsureNamespaceAsync(string name)
    {
        using var client = Cluster.Client(Cluster.AdminCertificate);
        await client.PostAsync("/api/v1/namespaces", StandInCluster.Json(new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } }));
    }

    private static JsonObject Pod(string name, string? node, long? grace)
    {
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "registry.example/c:1" }) };
        if (node is not null) spec["nodeName"] = node;
        if (grace is not null) spec["terminationGracePeriodSeconds"] = grace;
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };
    }
}
