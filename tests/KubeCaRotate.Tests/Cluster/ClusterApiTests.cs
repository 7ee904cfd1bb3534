using System.Text.Json.Nodes;
using k8s.Models;
using KubeCaRotate.Cluster;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Tests.Cluster;

/// <summary>
/// <see cref="ClusterApi"/> through the official client against a real HTTP server answering as kube-apiserver
/// does: retries of 429/5xx/409 and dropped connections, 404 as an answer, paging with limit/continue, the
/// restart after an expired continue token, and the bound on requests in flight.
/// </summary>
public class ClusterApiTests
{
    /// <summary>Generous: only for waiting, never asserted on.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly ClusterApiOptions Fast = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(40),
        MaxAttempts = 4,
    };

    private static ClusterApi Api(ScriptedApiServer server, ClusterApiOptions options) =>
        ClusterApi.FromKubeconfigBytes(server.Kubeconfig(), "the scripted server's kubeconfig", options);

    private static Task AnswerConfigMap(HttpContext http, string ns, string name, IDictionary<string, string>? data = null) =>
        ScriptedApiServer.WriteJsonAsync(http, ScriptedApiServer.ConfigMap(ns, name, 7, data));

    [Fact]
    public async Task Throttled_twice_with_Retry_After_then_answered_succeeds_after_three_requests()
    {
        await using var server = await ScriptedApiServer.StartAsync((http, r) =>
        {
            if (r.Number <= 2)
            {
                http.Response.Headers.RetryAfter = "1";
                return ScriptedApiServer.WriteStatusAsync(http, 429, "TooManyRequests", "Too many requests, please try again later.",
                    details: new JsonObject { ["retryAfterSeconds"] = 1 });
            }
            return AnswerConfigMap(http, "kube-system", "kubeadm-config", new Dictionary<string, string> { ["ClusterConfiguration"] = "kind: ClusterConfiguration" });
        });
        // A back-off of an hour: only the server's Retry-After (1 s) lets this finish within the test's patience.
        using var api = Api(server, Fast with { InitialBackoff = TimeSpan.FromHours(1), MaxBackoff = TimeSpan.FromHours(1) });

        var configMap = await api.GetConfigMapAsync("kube-system", "kubeadm-config", CancellationToken.None).WaitAsync(Patience);

        Assert.NotNull(configMap);
        Assert.Equal("kind: ClusterConfiguration", configMap.Data["ClusterConfiguration"]);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(("GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"), (r.Method, r.Path)));
    }

    [Fact]
    public async Task A_server_error_on_every_attempt_ends_after_MaxAttempts_in_one_sentence_naming_the_call_the_server_and_the_status()
    {
        await using var server = await ScriptedApiServer.StartAsync((http, _) =>
            ScriptedApiServer.WriteStatusAsync(http, 500, "InternalError", "Internal error occurred: etcdserver: request timed out"));
        using var api = Api(server, Fast);

        var e = await Assert.ThrowsAsync<ClusterApiException>(() => api.GetConfigMapAsync("kube-system", "kubeadm-config", CancellationToken.None).WaitAsync(Patience));

        Assert.Equal(Fast.MaxAttempts, server.Requests.Count);
        Assert.Equal(500, e.StatusCode);
        Assert.Contains("read ConfigMap kube-system/kubeadm-config", e.Message);
        Assert.Contains(api.Server, e.Message);
        Assert.Contains(" 500 ", e.Message);
        Assert.Contains("etcdserver: request timed out", e.Message);
        Assert.Contains($"after {Fast.MaxAttempts} attempts", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.EndsWith(".", e.Message);
    }

    [Fact]
    public async Task Not_found_is_an_answer_and_is_not_retried()
    {
        await using var server = await ScriptedApiServer.StartAsync((http, _) =>
            ScriptedApiServer.WriteStatusAsync(http, 404, "NotFound", "configmaps \"absent\" not found",
                details: new JsonObject { ["name"] = "absent", ["kind"] = "configmaps" }));
        using var api = Api(server, Fast);

        var configMap = await api.GetConfigMapAsync("default", "absent", CancellationToken.None).WaitAsync(Patience);

        Assert.Null(configMap);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_conflict_on_a_patch_is_retried_and_the_patch_lands()
    {
        const string patch = """{"data":{"ca.crt":"NEW"}}""";
        await using var server = await ScriptedApiServer.StartAsync((http, r) => r.Number == 1
            ? ScriptedApiServer.WriteStatusAsync(http, 409, "Conflict",
                "Operation cannot be fulfilled on configmaps \"kube-root-ca.crt\": the object has been modified; please apply your changes to the latest version and try again",
                details: new JsonObject { ["name"] = "kube-root-ca.crt", ["kind"] = "configmaps" })
            : AnswerConfigMap(http, "team-a", "kube-root-ca.crt", new Dictionary<string, string> { ["ca.crt"] = JsonNode.Parse(r.Body)!["data"]!["ca.crt"]!.GetValue<string>() }));
        using var api = Api(server, Fast);

        var patched = await api.PatchConfigMapAsync("team-a", "kube-root-ca.crt", patch, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal("NEW", patched.Data["ca.crt"]);
        Assert.Equal(2, server.Requests.Count);
        Assert.All(server.Requests, r =>
        {
            Assert.Equal(("PATCH", "/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt"), (r.Method, r.Path));
            Assert.StartsWith("application/merge-patch+json", r.ContentType);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(patch), JsonNode.Parse(r.Body)), r.Body);
        });
    }

    [Fact]
    public async Task A_list_of_1250_ConfigMaps_comes_in_three_pages_of_500_with_every_item_once()
    {
        var store = new PagedConfigMaps(1250, namespaces: 40);
        await using var server = await ScriptedApiServer.StartAsync(store.AnswerAsync);
        using var api = Api(server, Fast with { PageSize = 500 });

        var items = await api.ListConfigMapsAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(store.Keys, items.Select(i => $"{i.Namespace()}/{i.Name()}"));
        var requests = server.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(("GET", "/api/v1/configmaps", "500"), (r.Method, r.Path, r.Query["limit"])));
        Assert.False(requests[0].Query.ContainsKey("continue"));
        // Each later page asks with exactly the token the page before handed out.
        Assert.Equal(PagedConfigMaps.ContinueAfter(store.Keys[499]), requests[1].Query["continue"]);
        Assert.Equal(PagedConfigMaps.ContinueAfter(store.Keys[999]), requests[2].Query["continue"]);
    }

    [Fact]
    public async Task An_expired_continue_token_restarts_the_listing_and_every_item_comes_once()
    {
        var store = new PagedConfigMaps(1250, namespaces: 40);
        var expired = 0;
        await using var server = await ScriptedApiServer.StartAsync((http, r) =>
            r.Query.ContainsKey("continue") && Interlocked.Exchange(ref expired, 1) == 0
                ? ExpiredAsync(http, r.Query["continue"])
                : store.AnswerAsync(http, r));
        using var api = Api(server, Fast with { PageSize = 500 });

        var items = await api.ListConfigMapsAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(store.Keys, items.Select(i => $"{i.Namespace()}/{i.Name()}"));
        var requests = server.Requests;
        // page 1, page 2 (410), then the whole listing again: page 1, 2, 3
        Assert.Equal(5, requests.Count);
        Assert.Equal([false, true, false, true, true], requests.Select(r => r.Query.ContainsKey("continue")));
    }

    [Fact]
    public async Task A_continue_token_that_always_expires_gives_up_after_three_restarts_with_a_sentence()
    {
        var store = new PagedConfigMaps(1250, namespaces: 40);
        await using var server = await ScriptedApiServer.StartAsync((http, r) =>
            r.Query.ContainsKey("continue") ? ExpiredAsync(http, r.Query["continue"]) : store.AnswerAsync(http, r));
        using var api = Api(server, Fast with { PageSize = 500 });

        var e = await Assert.ThrowsAsync<ClusterApiException>(() => api.ListConfigMapsAsync(CancellationToken.None).WaitAsync(Patience));

        Assert.Equal(410, e.StatusCode);
        Assert.Contains("list ConfigMaps in all namespaces", e.Message);
        Assert.Contains("continue parameter is too old", e.Message);
        // the first listing and three restarts, each a first page and an expired second page
        Assert.Equal(8, server.Requests.Count);
    }

    /// <summary>kube-apiserver's answer to a continue token whose revision etcd compacted away.</summary>
    private static Task ExpiredAsync(HttpContext http, string token) =>
        ScriptedApiServer.WriteStatusAsync(http, 410, "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            metadata: new JsonObject { ["continue"] = token + "-inconsistent" });

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        await using var server = await ScriptedApiServer.StartAsync((http, r) =>
        {
            if (r.Number == 1)
            {
                http.Abort();
                return Task.CompletedTask;
            }
            return AnswerConfigMap(http, "kube-public", "cluster-info");
        });
        using var api = Api(server, Fast);

        var configMap = await api.GetConfigMapAsync("kube-public", "cluster-info", CancellationToken.None).WaitAsync(Patience);

        Assert.Equal("cluster-info", configMap?.Name());
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task A_dropped_connection_on_the_last_attempt_is_a_sentence_saying_the_server_could_not_be_reached()
    {
        // The contrast to the test above: with a single attempt nobody retries (neither HttpClient nor the client library).
        await using var server = await ScriptedApiServer.StartAsync((http, _) =>
        {
            http.Abort();
            return Task.CompletedTask;
        });
        using var api = Api(server, Fast with { MaxAttempts = 1 });

        var e = await Assert.ThrowsAsync<ClusterApiException>(() => api.GetConfigMapAsync("kube-public", "cluster-info", CancellationToken.None).WaitAsync(Patience));

        Assert.Single(server.Requests);
        Assert.Null(e.StatusCode);
        Assert.Contains("read ConfigMap kube-public/cluster-info", e.Message);
        Assert.Contains($"{api.Server} could not be reached", e.Message);
        Assert.Contains("after 1 attempts", e.Message);
    }

    [Fact]
    public async Task MaxConcurrency_2_keeps_at_most_two_of_ten_parallel_calls_in_flight_at_the_server()
    {
        var twoInFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ScriptedApiServer? self = null;
        await using var server = await ScriptedApiServer.StartAsync(async (http, r) =>
        {
            // Hold each answer until two requests were in flight at once (so the bound is reached, not just
            // respected by luck), then a little longer so that a broken bound would let more pile up.
            if (self!.InFlight >= 2) twoInFlight.TrySetResult();
            await twoInFlight.Task.WaitAsync(Patience, http.RequestAborted);
            await Task.Delay(TimeSpan.FromMilliseconds(50), http.RequestAborted);
            await AnswerConfigMap(http, "ns", r.Path.Split('/')[^1]);
        });
        self = server;
        using var api = Api(server, Fast with { MaxConcurrency = 2 });

        var names = Enumerable.Range(0, 10).Select(i => $"cm-{i}").ToList();
        var answers = await Task.WhenAll(names.Select(n => api.GetConfigMapAsync("ns", n, CancellationToken.None))).WaitAsync(Patience);

        Assert.Equal(names, answers.Select(a => a?.Name()));
        Assert.Equal(10, server.Requests.Count);
        Assert.Equal(2, server.MaxInFlight);
    }
}
