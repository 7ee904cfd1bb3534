using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>
/// The TokenRequest API as the kubelet uses it for projected service-account tokens: signed with
/// --service-account-signing-key-file, issued by --service-account-issuer for the API server's audience, bound to an
/// existing pod of that service account, and accepted by the API server's own token authenticator.
/// </summary>
public sealed class TokenRequestTests(StandInClusterFixture fixture) : IClassFixture<StandInClusterFixture>
{
    private StandInCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_token_bound_to_a_pod_names_its_service_account_and_pod_and_authenticates()
    {
        var pod = await PodAsync("tr-runner", "tr-pod-1");
        var issued = await RequestAsync("tr-runner", new JsonObject
        {
            ["expirationSeconds"] = 3607,
            ["boundObjectRef"] = new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["name"] = "tr-pod-1", ["uid"] = pod["metadata"]!["uid"]!.GetValue<string>() },
        });
        Assert.Equal(HttpStatusCode.Created, issued.Status);
        var token = issued.Body!["status"]!["token"]!.GetValue<string>();
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]))!;
        Assert.Equal(StandInCluster.Issuer, claims["iss"]!.GetValue<string>());
        Assert.Equal([StandInCluster.Issuer], claims["aud"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("system:serviceaccount:team-a:tr-runner", claims["sub"]!.GetValue<string>());
        Assert.Equal("tr-pod-1", claims["kubernetes.io"]!["pod"]!["name"]!.GetValue<string>());
        // The kubelet's 3607 s are extended to a year, with a warnafter at the requested lifetime.
        Assert.True(claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>() > 3600 * 24 * 300);
        Assert.Equal(claims["iat"]!.GetValue<long>() + 3607, claims["kubernetes.io"]!["warnafter"]!.GetValue<long>());

        using var client = Cluster.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/namespaces/team-a/pods/tr-pod-1")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token[..^4] + "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/namespaces/team-a/pods/tr-pod-1")).StatusCode);
    }

    [Fact]
    public async Task A_token_is_refused_for_a_missing_account_a_stale_pod_uid_or_another_accounts_pod()
    {
        await PodAsync("tr-owner", "tr-pod-2");
        Assert.Equal(HttpStatusCode.NotFound, (await RequestAsync("tr-nobody", new JsonObject())).Status);
        var stale = await RequestAsync("tr-owner", new JsonObject { ["boundObjectRef"] = new JsonObject { ["kind"] = "Pod", ["name"] = "tr-pod-2", ["uid"] = Guid.NewGuid().ToString() } });
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);
        await Cluster.CreateAsync("/api/v1/namespaces/team-a/serviceaccounts", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "tr-other" } });
        var other = await RequestAsync("tr-other", new JsonObject { ["boundObjectRef"] = new JsonObject { ["kind"] = "Pod", ["name"] = "tr-pod-2" } });
        Assert.Equal(HttpStatusCode.BadRequest, other.Status);
        Assert.Contains("tr-owner", other.Body!["message"]!.GetValue<string>());
        var tooShort = await RequestAsync("tr-owner", new JsonObject { ["expirationSeconds"] = 60 });
        Assert.Equal((HttpStatusCode)422, tooShort.Status);
    }

    [Fact]
    public async Task Kubectl_create_token_gets_a_token_the_api_server_accepts()
    {
        await Cluster.CreateAsync("/api/v1/namespaces/team-a/serviceaccounts", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "tr-kubectl" } });
        var run = (await Cluster.KubectlAsync("create", "token", "tr-kubectl", "-n", "team-a", "--duration=20m")).EnsureSuccess();
        using var client = Cluster.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", run.Stdout.Trim());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/namespaces/team-a/serviceaccounts/tr-kubectl")).StatusCode);
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(run.Stdout.Trim().Split('.')[1]))!;
        Assert.Equal(1200, claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>());
    }

    private async Task<JsonObject> PodAsync(string serviceAccount, string name)
    {
        await Cluster.CreateAsync("/api/v1/namespaces/team-a/serviceaccounts", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = serviceAccount } });
        return await Cluster.CreateAsync("/api/v1/namespaces/team-a/pods", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject { ["serviceAccountName"] = serviceAccount, ["nodeName"] = "worker-1", ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i" }) },
        });
    }

    private async Task<(HttpStatusCode Status, JsonObject? Body)> RequestAsync(string serviceAccount, JsonObject spec)
    {
        using var client = Cluster.Client(Cluster.AdminCertificate);
        var response = await client.PostAsync($"/api/v1/namespaces/team-a/serviceaccounts/{serviceAccount}/token",
            StandInCluster.Json(new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenRequest", ["spec"] = spec }));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject);
    }
}
