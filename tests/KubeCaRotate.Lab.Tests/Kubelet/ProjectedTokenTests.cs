using System.Buffers.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Tests.ControllerManager;

namespace KubeCaRotate.Lab.Tests.Kubelet;

/// <summary>
/// Pods without a legacy token Secret (CoreDNS, kube-proxy) get a bound token from the TokenRequest API as the kubelet
/// asks for it, call the API server with it, become Ready, and their rollouts complete; kube-proxy runs on every node.
/// </summary>
[Collection("workload lab")]
public sealed class ProjectedTokenTests(WorkloadLab fixture)
{
    [Fact]
    public async Task CoreDns_and_kube_proxy_run_ready_with_bound_tokens_and_their_rollouts_complete()
    {
        (await fixture.KubectlAsync("rollout", "status", "deployment/coredns", "-n", "kube-system", "--timeout=120s")).EnsureSuccess();
        (await fixture.KubectlAsync("rollout", "status", "daemonset/kube-proxy", "-n", "kube-system", "--timeout=120s")).EnsureSuccess();

        var proxies = await fixture.Admin.ListAsync("/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy", CancellationToken.None);
        Assert.Equal(fixture.Lab.Nodes.Select(n => n.Name).Order(), proxies.Select(p => p["spec"]!["nodeName"]!.GetValue<string>()).Order());
        var dns = await fixture.Admin.ListAsync("/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns", CancellationToken.None);
        Assert.Equal(2, dns.Count);
        foreach (var pod in proxies.Concat(dns))
        {
            var name = pod["metadata"]!["name"]!.GetValue<string>();
            Assert.True(KubeCaRotate.Lab.ControllerManager.WorkloadPods.IsReady(pod), $"{name} is not Ready: {pod["status"]?.ToJsonString()}");
            var node = pod["spec"]!["nodeName"]!.GetValue<string>();
            var tokenFile = LoadedFiles.Find(fixture.Lab, node, WorkloadPods.Component("kube-system", name), $"{WorkloadPods.ServiceAccountDir}/token");
            Assert.NotNull(tokenFile);
            var claims = JsonNode.Parse(Base64Url.DecodeFromChars(File.ReadAllText(tokenFile).Split('.')[1]))!;
            Assert.Equal("https://kubernetes.default.svc.cluster.local", claims["iss"]!.GetValue<string>());
            Assert.Equal(name, claims["kubernetes.io"]!["pod"]!["name"]!.GetValue<string>());
            Assert.Equal(pod["metadata"]!["uid"]!.GetValue<string>(), claims["kubernetes.io"]!["pod"]!["uid"]!.GetValue<string>());
            Assert.Equal(node, claims["kubernetes.io"]!["node"]!["name"]!.GetValue<string>());
        }
    }
}
