using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>The real kubectl against the stand-in: the commands the rotation procedure and the tool use.</summary>
public sealed class KubectlAgainstStandInTests(StandInClusterFixture fixture) : IClassFixture<StandInClusterFixture>
{
    private StandInCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task GetNodesPrintsStatusRolesAndVersion()
    {
        var run = (await Cluster.KubectlAsync("get", "nodes")).EnsureSuccess();
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "STATUS", "ROLES", "AGE", "VERSION"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var cp = lines.Single(l => l.StartsWith("cp-1 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Ready", cp[1]);
        Assert.Equal("control-plane", cp[2]);
        Assert.Equal("v1.32.4", cp[4]);
        var worker = lines.Single(l => l.StartsWith("worker-1 ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("<none>", worker[2]);
    }

    [Fact]
    public async Task GetSecretsInAllNamespacesWithATypeFieldSelector()
    {
        var all = (await Cluster.KubectlAsync("get", "secrets", "-A")).EnsureSuccess();
        Assert.Contains("builder-token", all.Stdout);
        Assert.Contains("plain", all.Stdout);
        Assert.StartsWith("NAMESPACE", all.Stdout);
        Assert.Contains("kubernetes.io/service-account-token", all.Stdout);

        var tokens = (await Cluster.KubectlAsync("get", "secrets", "-A", "--field-selector", "type=kubernetes.io/service-account-token", "-o", "name")).EnsureSuccess();
        Assert.Equal(["secret/builder-token"], tokens.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var plain = (await Cluster.KubectlAsync("get", "secret", "plain", "-n", "team-a", "-o", "jsonpath={.data.password}")).EnsureSuccess();
        Assert.Equal(Convert.ToBase64String("s3cret"u8.ToArray()), plain.Stdout);
    }

    [Fact]
    public async Task GetDeploymentsInAllNamespacesAsYaml()
    {
        var run = (await Cluster.KubectlAsync("get", "deploy", "-A", "-o", "yaml")).EnsureSuccess();
        Assert.Contains("kind: List", run.Stdout);
        Assert.Contains("name: web", run.Stdout);
        Assert.Contains("namespace: team-a", run.Stdout);
        Assert.Contains("generation: 1", run.Stdout);
    }

    [Fact]
    public async Task CreateFromAFileThenGetAndDelete()
    {
        var file = Path.Combine(Cluster.Dir, "cm.yaml");
        File.WriteAllText(file, """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: from-file
              namespace: team-a
              labels: {tier: backend}
            data:
              k: v
            """);
        (await Cluster.KubectlAsync("create", "-f", file)).EnsureSuccess();
        var again = await Cluster.KubectlAsync("create", "-f", file);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
        var got = (await Cluster.KubectlAsync("get", "cm", "-n", "team-a", "-l", "tier in (backend,frontend)", "-o", "jsonpath={.items[*].metadata.name}")).EnsureSuccess();
        Assert.Equal("from-file", got.Stdout);
        (await Cluster.KubectlAsync("delete", "-f", file)).EnsureSuccess();
        var gone = await Cluster.KubectlAsync("get", "cm", "from-file", "-n", "team-a");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("not found", gone.Stderr);
    }

    [Fact]
    public async Task CreateInAMissingNamespaceIsNotFound()
    {
        var run = await Cluster.KubectlAsync("create", "configmap", "x", "-n", "no-such-namespace");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("namespaces \"no-such-namespace\" not found", run.Stderr);
    }

    [Fact]
    public async Task StrategicMergePatchOnTheTemplateBumpsGeneration()
    {
        await Cluster.CreateAsync("/apis/apps/v1/namespaces/team-a/deployments", StandInCluster.Deployment("patched"));
        (await Cluster.KubectlAsync("patch", "deployment", "patched", "-n", "team-a", "-p", """{"spec":{"template":{"metadata":{"annotations":{"x":"1"}}}}}""")).EnsureSuccess();
        var json = JsonNode.Parse((await Cluster.KubectlAsync("get", "deployment", "patched", "-n", "team-a", "-o", "json")).EnsureSuccess().Stdout)!;
        Assert.Equal(2, json["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("1", (string?)json["spec"]!["template"]!["metadata"]!["annotations"]!["x"]);
        Assert.Equal("app", (string?)json["spec"]!["template"]!["spec"]!["containers"]![0]!["name"]);

        // a container merged by name keeps its other fields; env merges by name
        (await Cluster.KubectlAsync("patch", "deployment", "patched", "-n", "team-a", "-p",
            """{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"2"}]}]}}}}""")).EnsureSuccess();
        json = JsonNode.Parse((await Cluster.KubectlAsync("get", "deployment", "patched", "-n", "team-a", "-o", "json")).Stdout)!;
        var container = json["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("registry.k8s.io/pause:3.10", (string?)container["image"]);
        Assert.Equal(["A", "B"], container["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal(3, json["metadata"]!["generation"]!.GetValue<long>());

        // a label-only merge patch does not touch the spec, so the generation stays
        (await Cluster.KubectlAsync("patch", "deployment", "patched", "-n", "team-a", "--type", "merge", "-p", """{"metadata":{"labels":{"y":"2"}}}""")).EnsureSuccess();
        (await Cluster.KubectlAsync("patch", "deployment", "patched", "-n", "team-a", "--type", "json", "-p", """[{"op":"add","path":"/metadata/annotations","value":{"z":"3"}}]""")).EnsureSuccess();
        json = JsonNode.Parse((await Cluster.KubectlAsync("get", "deployment", "patched", "-n", "team-a", "-o", "json")).Stdout)!;
        Assert.Equal(3, json["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("2", (string?)json["metadata"]!["labels"]!["y"]);
        Assert.Equal("3", (string?)json["metadata"]!["annotations"]!["z"]);
    }

    [Fact]
    public async Task GetAsYamlPipedToApplyWorks()
    {
        var run = (await Cluster.BashAsync("set -o pipefail; kubectl get secret builder-token -n team-a -o yaml | kubectl apply -f -")).EnsureSuccess();
        Assert.Contains("secret/builder-token", run.Stdout);
        var annotations = JsonNode.Parse((await Cluster.KubectlAsync("get", "secret", "builder-token", "-n", "team-a", "-o", "json")).Stdout)!["metadata"]!["annotations"]!;
        Assert.NotNull(annotations["kubectl.kubernetes.io/last-applied-configuration"]);
        Assert.Equal("builder", (string?)annotations["kubernetes.io/service-account.name"]);
        // a second round trip is a no-op apply
        (await Cluster.BashAsync("set -o pipefail; kubectl get secret builder-token -n team-a -o yaml | kubectl apply -f -")).EnsureSuccess();
    }

    [Fact]
    public async Task RolloutStatusFollowsTheWatchUntilTheStatusCatchesUp()
    {
        await Cluster.CreateAsync("/apis/apps/v1/namespaces/team-a/deployments", StandInCluster.Deployment("rolling"));
        var status = Cluster.KubectlAsync("rollout", "status", "deployment/rolling", "-n", "team-a", "--timeout=90s");
        (await Cluster.KubectlAsync("patch", "deployment", "rolling", "-n", "team-a", "--subresource=status", "--type", "merge", "-p",
            """{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}}""")).EnsureSuccess();
        var run = (await status).EnsureSuccess();
        Assert.Contains("successfully rolled out", run.Stdout);
        var table = (await Cluster.KubectlAsync("get", "deploy", "rolling", "-n", "team-a")).EnsureSuccess().Stdout;
        Assert.Equal(["rolling", "2/2", "2", "2"], table.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);
    }

    [Fact]
    public async Task ChunkedListFollowsContinueTokens()
    {
        (await Cluster.KubectlAsync("create", "namespace", "paging")).EnsureSuccess();
        for (var i = 0; i < 7; i++)
            (await Cluster.KubectlAsync("create", "configmap", $"cm-{i}", "-n", "paging", "--from-literal=i=" + i)).EnsureSuccess();
        var run = (await Cluster.KubectlAsync("get", "cm", "-n", "paging", "--chunk-size=2", "-o", "name", "-v=6")).EnsureSuccess();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"configmap/cm-{i}"), run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("continue=", run.Stderr); // kubectl really paged
    }

    [Fact]
    public async Task ReplaceWithAStaleResourceVersionIsAConflict()
    {
        (await Cluster.KubectlAsync("create", "configmap", "contested", "-n", "team-a", "--from-literal=v=1")).EnsureSuccess();
        var stale = (await Cluster.KubectlAsync("get", "configmap", "contested", "-n", "team-a", "-o", "json")).EnsureSuccess().Stdout;
        (await Cluster.KubectlAsync("patch", "configmap", "contested", "-n", "team-a", "--type", "merge", "-p", """{"data":{"v":"2"}}""")).EnsureSuccess();
        var file = Path.Combine(Cluster.Dir, "stale.json");
        File.WriteAllText(file, stale);
        var run = await Cluster.KubectlAsync("replace", "-f", file);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("the object has been modified", run.Stderr);
    }

    [Fact]
    public async Task CurlReachesReadyzWithTheAdminCertificate()
    {
        var pki = Cluster.Pki;
        var cert = Path.Combine(Cluster.Dir, "admin.crt");
        var key = Path.Combine(Cluster.Dir, "admin.key");
        File.WriteAllText(cert, Cluster.AdminCertificate.ExportCertificatePem());
        File.WriteAllText(key, Cluster.AdminCertificate.GetECDsaPrivateKey()!.ExportECPrivateKeyPem());
        var run = (await ProcessRun.RunAsync("curl", ["-sS", "--cacert", Path.Combine(pki, "ca.crt"), "--cert", cert, "--key", key, Cluster.Server.Url + "readyz"])).EnsureSuccess();
        Assert.Equal("ok", run.Stdout);
        var nodes = (await ProcessRun.RunAsync("curl", ["-sS", "--cacert", Path.Combine(pki, "ca.crt"), "--cert", cert, "--key", key, Cluster.Server.Url + "api/v1/nodes"])).EnsureSuccess();
        Assert.Equal("NodeList", (string?)JsonNode.Parse(nodes.Stdout)!["kind"]);
        var anonymous = (await ProcessRun.RunAsync("curl", ["-sS", "--cacert", Path.Combine(pki, "ca.crt"), Cluster.Server.Url + "api/v1/nodes"])).EnsureSuccess();
        var status = JsonNode.Parse(anonymous.Stdout)!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal(401, status["code"]!.GetValue<int>());
    }
}
