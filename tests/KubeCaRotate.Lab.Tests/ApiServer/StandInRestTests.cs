using System.Security.Cryptography.X509Certificates;
using System.Net;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>The REST conventions over a real HTTP client: paging, watch, conflicts, Status objects, faults, readiness.</summary>
public sealed class StandInRestTests(StandInClusterFixture fixture) : IClassFixture<StandInClusterFixture>
{
    private StandInCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task PagingWithLimitReturnsEveryObjectOnceAndTheListRevision()
    {
        await EnsureNamespaceAsync("pages");
        for (var i = 0; i < 5; i++)
            await Cluster.CreateAsync("/api/v1/namespaces/pages/configmaps", ConfigMap($"page-{i}"));
        using var client = Cluster.Client(Cluster.AdminCertificate);
        var names = new List<string>();
        string? token = null;
        string? firstRevision = null;
        var pages = 0;
        do
        {
            var url = "/api/v1/namespaces/pages/configmaps?limit=2" + (token is null ? "" : "&continue=" + Uri.EscapeDataString(token));
            var list = JsonNode.Parse(await client.GetStringAsync(url))!;
            Assert.Equal("ConfigMapList", (string?)list["kind"]);
            firstRevision ??= (string?)list["metadata"]!["resourceVersion"];
            Assert.Equal(firstRevision, (string?)list["metadata"]!["resourceVersion"]);
            var items = list["items"]!.AsArray();
            Assert.True(items.Count <= 2);
            names.AddRange(items.Select(i => (string)i!["metadata"]!["name"]!));
            token = (string?)list["metadata"]!["continue"];
            pages++;
        }
        while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"page-{i}"), names);

        var bad = await client.GetAsync("/api/v1/namespaces/pages/configmaps?limit=2&continue=garbage");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task PagesAreReadAtTheFirstPagesRevisionWithRemainingItemCountAndSelectorsPageOverTheKeys()
    {
        await EnsureNamespaceAsync("snapshot");
        for (var i = 0; i < 6; i++)
            await Cluster.CreateAsync("/api/v1/namespaces/snapshot/configmaps", ConfigMap($"item-{i}", new JsonObject { ["colour"] = i % 3 == 0 ? "blue" : "red" }));
        using var client = Cluster.Client(Cluster.AdminCertificate);
        const string list = "/api/v1/namespaces/snapshot/configmaps";
        static List<string> Names(JsonNode page) => page["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!).ToList();

        var first = JsonNode.Parse(await client.GetStringAsync(list + "?limit=4"))!;
        Assert.Equal(["item-0", "item-1", "item-2", "item-3"], Names(first));
        Assert.Equal(2, (long)first["metadata"]!["remainingItemCount"]!);
        var revision = (string)first["metadata"]!["resourceVersion"]!;
        // Changes after the first page are not seen by the next one: it is read at the first page's revision, as etcd serves it.
        await Cluster.CreateAsync(list, ConfigMap("item-4a"));
        (await client.DeleteAsync(list + "/item-5")).EnsureSuccessStatusCode();
        var second = JsonNode.Parse(await client.GetStringAsync(list + "?limit=4&continue=" + Uri.EscapeDataString((string)first["metadata"]!["continue"]!)))!;
        Assert.Equal(["item-4", "item-5"], Names(second));
        Assert.Equal(revision, (string?)second["metadata"]!["resourceVersion"]);
        Assert.Null(second["metadata"]!["continue"]);
        Assert.Null(second["metadata"]!["remainingItemCount"]);

        // With a selector a page holds `limit` matching objects, continue is set while keys follow the last one
        // examined (even when none of them match), and remainingItemCount is not given.
        var blue = JsonNode.Parse(await client.GetStringAsync(list + "?limit=1&labelSelector=colour%3Dblue"))!;
        Assert.Equal(["item-0"], Names(blue));
        Assert.Null(blue["metadata"]!["remainingItemCount"]);
        var blueNext = JsonNode.Parse(await client.GetStringAsync(list + "?limit=1&labelSelector=colour%3Dblue&continue=" + Uri.EscapeDataString((string)blue["metadata"]!["continue"]!)))!;
        Assert.Equal(["item-3"], Names(blueNext));
        Assert.NotNull(blueNext["metadata"]!["continue"]); // item-4 and item-4a follow, and are red
        var blueLast = JsonNode.Parse(await client.GetStringAsync(list + "?limit=1&labelSelector=colour%3Dblue&continue=" + Uri.EscapeDataString((string)blueNext["metadata"]!["continue"]!)))!;
        Assert.Empty(Names(blueLast));
        Assert.Null(blueLast["metadata"]!["continue"]);

        // A token of another list is refused.
        var other = await client.GetAsync("/api/v1/namespaces/pages/configmaps?limit=1&continue=" + Uri.EscapeDataString((string)first["metadata"]!["continue"]!));
        Assert.Equal(HttpStatusCode.BadRequest, other.StatusCode);
    }

    [Fact]
    public async Task WatchStreamsChangesAfterTheGivenRevision()
    {
        await EnsureNamespaceAsync("watched");
        var seed = await Cluster.CreateAsync("/api/v1/namespaces/watched/configmaps", ConfigMap("before"));
        var revision = (string)seed["metadata"]!["resourceVersion"]!;
        using var client = Cluster.Client(Cluster.AdminCertificate);
        using var response = await client.GetAsync($"/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion={revision}&allowWatchBookmarks=true&timeoutSeconds=60",
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await Cluster.CreateAsync("/api/v1/namespaces/watched/configmaps", ConfigMap("after", new JsonObject { ["watch"] = "me" }));
        var patch = await client.PatchAsync("/api/v1/namespaces/watched/configmaps/after",
            StandInCluster.Json(new JsonObject { ["data"] = new JsonObject { ["k"] = "changed" } }, "application/merge-patch+json"));
        patch.EnsureSuccessStatusCode();
        (await client.DeleteAsync("/api/v1/namespaces/watched/configmaps/after")).EnsureSuccessStatusCode();

        var events = new List<(string Type, string Name, string Data)>();
        while (events.Count < 3)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(line);
            var e = JsonNode.Parse(line)!;
            if ((string?)e["type"] == "BOOKMARK")
                continue;
            events.Add(((string)e["type"]!, (string)e["object"]!["metadata"]!["name"]!, (string?)e["object"]!["data"]?["k"] ?? ""));
        }
        Assert.Equal([("ADDED", "after", "v"), ("MODIFIED", "after", "changed"), ("DELETED", "after", "changed")], events);
    }

    [Fact]
    public async Task WatchWithALabelSelectorFromRevisionZeroStartsWithTheCurrentObjects()
    {
        await EnsureNamespaceAsync("labelled");
        await Cluster.CreateAsync("/api/v1/namespaces/labelled/configmaps", ConfigMap("blue", new JsonObject { ["colour"] = "blue" }));
        await Cluster.CreateAsync("/api/v1/namespaces/labelled/configmaps", ConfigMap("red", new JsonObject { ["colour"] = "red" }));
        using var client = Cluster.Client(Cluster.AdminCertificate);
        using var response = await client.GetAsync("/api/v1/namespaces/labelled/configmaps?watch=1&labelSelector=colour%21%3Dred&timeoutSeconds=1",
            HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync(); // the stream ends after timeoutSeconds
        var events = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var added = Assert.Single(events);
        Assert.Equal("ADDED", (string?)added["type"]);
        Assert.Equal("blue", (string?)added["object"]!["metadata"]!["name"]);
    }

    [Fact]
    public async Task UpdateWithAStaleResourceVersionIsA409Status()
    {
        await EnsureNamespaceAsync("conflicts");
        var created = await Cluster.CreateAsync("/api/v1/namespaces/conflicts/configmaps", ConfigMap("c"));
        using var client = Cluster.Client(Cluster.AdminCertificate);
        var first = (JsonObject)created.DeepClone();
        first["data"]!["k"] = "first";
        var ok = await client.PutAsync("/api/v1/namespaces/conflicts/configmaps/c", StandInCluster.Json(first));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var updated = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!;
        Assert.NotEqual((string?)created["metadata"]!["resourceVersion"], (string?)updated["metadata"]!["resourceVersion"]);
        Assert.Equal((string?)created["metadata"]!["uid"], (string?)updated["metadata"]!["uid"]);

        var second = (JsonObject)created.DeepClone(); // still carries the old resourceVersion
        second["data"]!["k"] = "second";
        var conflict = await client.PutAsync("/api/v1/namespaces/conflicts/configmaps/c", StandInCluster.Json(second));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var status = JsonNode.Parse(await conflict.Content.ReadAsStringAsync())!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("Failure", (string?)status["status"]);
        Assert.Equal("Conflict", (string?)status["reason"]);
        Assert.Equal(409, status["code"]!.GetValue<int>());
        Assert.Equal("c", (string?)status["details"]!["name"]);

        var create = await client.PostAsync("/api/v1/namespaces/conflicts/configmaps", StandInCluster.Json(ConfigMap("c")));
        Assert.Equal("AlreadyExists", (string?)JsonNode.Parse(await create.Content.ReadAsStringAsync())!["reason"]);
        var missing = await client.GetAsync("/api/v1/namespaces/conflicts/configmaps/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("configmaps \"nope\" not found", (string?)JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["message"]);
        var invalid = await client.PostAsync("/api/v1/namespaces/conflicts/configmaps", StandInCluster.Json(ConfigMap("Not_Valid")));
        Assert.Equal(422, (int)invalid.StatusCode);
        Assert.Equal("Invalid", (string?)JsonNode.Parse(await invalid.Content.ReadAsStringAsync())!["reason"]);
    }

    [Fact]
    public async Task StatusSubresourceChangesOnlyStatusAndMainResourceIgnoresStatus()
    {
        var created = await Cluster.CreateAsync("/apis/apps/v1/namespaces/team-a/deployments", StandInCluster.Deployment("split"));
        using var client = Cluster.Client(Cluster.AdminCertificate);
        var status = await client.PatchAsync("/apis/apps/v1/namespaces/team-a/deployments/split/status",
            StandInCluster.Json(new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 9 }, ["status"] = new JsonObject { ["readyReplicas"] = 2 } }, "application/merge-patch+json"));
        var afterStatus = JsonNode.Parse(await status.Content.ReadAsStringAsync())!;
        Assert.Equal(2, afterStatus["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(2, afterStatus["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal(1, afterStatus["metadata"]!["generation"]!.GetValue<int>());

        var main = await client.PatchAsync("/apis/apps/v1/namespaces/team-a/deployments/split",
            StandInCluster.Json(new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 3 }, ["status"] = new JsonObject { ["readyReplicas"] = 0 } }, "application/merge-patch+json"));
        var afterMain = JsonNode.Parse(await main.Content.ReadAsStringAsync())!;
        Assert.Equal(3, afterMain["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(2, afterMain["status"]!["readyReplicas"]!.GetValue<int>());
        Assert.Equal(2, afterMain["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal((string?)created["metadata"]!["uid"], (string?)afterMain["metadata"]!["uid"]);
    }

    [Fact]
    public async Task DiscoveryAndOpenApiDescribeTheResources()
    {
        using var client = Cluster.Client(Cluster.AdminCertificate);
        var apps = JsonNode.Parse(await client.GetStringAsync("/apis/apps/v1"))!;
        var deployments = apps["resources"]!.AsArray().Single(r => (string?)r!["name"] == "deployments")!;
        Assert.Equal("Deployment", (string?)deployments["kind"]);
        Assert.True(deployments["namespaced"]!.GetValue<bool>());
        Assert.Contains("deploy", deployments["shortNames"]!.AsArray().Select(s => (string?)s));
        Assert.Contains("watch", deployments["verbs"]!.AsArray().Select(s => (string?)s));
        var groups = JsonNode.Parse(await client.GetStringAsync("/apis"))!["groups"]!.AsArray().Select(g => (string?)g!["name"]).ToList();
        Assert.Contains("certificates.k8s.io", groups);
        Assert.Contains("admissionregistration.k8s.io", groups);

        var index = JsonNode.Parse(await client.GetStringAsync("/openapi/v3"))!;
        var url = (string)index["paths"]!["apis/apps/v1"]!["serverRelativeURL"]!;
        var document = JsonNode.Parse(await client.GetStringAsync(url))!;
        var patch = document["paths"]!["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!["patch"]!;
        Assert.Contains("fieldValidation", patch["parameters"]!.AsArray().Select(p => (string?)p!["name"]));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v2")).StatusCode);

        var version = JsonNode.Parse(await client.GetStringAsync("/version"))!;
        Assert.Equal("v1.32.4", (string?)version["gitVersion"]);
    }

    [Fact]
    public async Task CertificateSigningRequestApprovalSubresource()
    {
        var csr = await Cluster.CreateAsync("/apis/certificates.k8s.io/v1/certificatesigningrequests", new JsonObject
        {
            ["apiVersion"] = "certificates.k8s.io/v1",
            ["kind"] = "CertificateSigningRequest",
            ["metadata"] = new JsonObject { ["generateName"] = "csr-" },
            ["spec"] = new JsonObject { ["signerName"] = "kubernetes.io/kube-apiserver-client-kubelet", ["request"] = "", ["usages"] = new JsonArray("client auth") },
        });
        var name = (string)csr["metadata"]!["name"]!;
        Assert.StartsWith("csr-", name);
        Assert.Equal(9, name.Length);
        var approval = (JsonObject)csr.DeepClone();
        approval["status"] = new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Approved", ["status"] = "True", ["reason"] = "Test" }) };
        using var client = Cluster.Client(Cluster.AdminCertificate);
        var response = await client.PutAsync($"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval", StandInCluster.Json(approval));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var table = (await Cluster.KubectlAsync("get", "csr", name)).EnsureSuccess().Stdout;
        Assert.Contains("Approved", table);
    }

    [Fact]
    public async Task FaultFileInjects429And503AndDroppedConnections()
    {
        using var client = Cluster.Client(Cluster.AdminCertificate);
        try
        {
            File.WriteAllText(Cluster.FaultFile!, """{"tooManyRequestsRate":1,"retryAfterSeconds":7}""");
            var limited = await client.GetAsync("/api/v1/nodes");
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("7", limited.Headers.GetValues("Retry-After").Single());
            Assert.Equal("TooManyRequests", (string?)JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["reason"]);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode); // health is exempt

            File.WriteAllText(Cluster.FaultFile!, """{"unavailableRate":1}""");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/api/v1/nodes")).StatusCode);

            File.WriteAllText(Cluster.FaultFile!, """{"abortRate":1}""");
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/api/v1/nodes"));
        }
        finally
        {
            File.Delete(Cluster.FaultFile!);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/nodes")).StatusCode);
    }

    [Fact]
    public async Task ReadyzFailsWhileTheStoreIsUnreachable()
    {
        using var client = Cluster.Client(Cluster.AdminCertificate);
        Assert.Equal("ok", await client.GetStringAsync("/readyz"));
        Cluster.Store.Unavailable = true;
        try
        {
            var ready = await client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.InternalServerError, ready.StatusCode);
            Assert.Contains("etcd failed", await ready.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/livez")).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/api/v1/nodes")).StatusCode);
        }
        finally
        {
            Cluster.Store.Unavailable = false;
        }
        Assert.Equal("ok", await client.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task FrontProxyRequestHeadersNameTheUser()
    {
        var (proxy, proxyKey) = Cluster.FrontProxyCa.Issue("front-proxy-client");
        using var client = Cluster.Client(proxy.CopyWithPrivateKey(proxyKey));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes");
        request.Headers.Add("X-Remote-User", "alice");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        // without the header the front-proxy certificate alone is not a user
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/nodes")).StatusCode);
    }

    private async Task EnsureNamespaceAsync(string name)
    {
        using var client = Cluster.Client(Cluster.AdminCertificate);
        await client.PostAsync("/api/v1/namespaces", StandInCluster.Json(new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } }));
    }

    private static JsonObject ConfigMap(string name, JsonObject? labels = null) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels ?? new JsonObject() },
        ["data"] = new JsonObject { ["k"] = "v" },
    };
}
