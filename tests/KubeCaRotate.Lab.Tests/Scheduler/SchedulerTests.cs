using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Tests.ControllerManager;

namespace KubeCaRotate.Lab.Tests.Scheduler;

[Collection("workload lab")]
public sealed class SchedulerTests(WorkloadLab fixture)
{
    private async Task CreatePodAsync(string name, JsonObject? tolerations = null, string? nodeName = null)
    {
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "registry.example/c:1" }) };
        if (tolerations is not null)
            spec["tolerations"] = new JsonArray(tolerations);
        if (nodeName is not null)
            spec["nodeSelector"] = new JsonObject { ["kubernetes.io/hostname"] = nodeName };
        await fixture.Admin.CreateAsync("/api/v1/namespaces/lab-2/pods", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec,
        }, CancellationToken.None);
    }

    private async Task<string> BoundNodeAsync(string name)
    {
        var node = "";
        await WorkloadLab.EventuallyAsync(async () =>
        {
            node = WorkloadPods.Str((await fixture.Admin.GetAsync($"/api/v1/namespaces/lab-2/pods/{name}", CancellationToken.None))?["spec"]?["nodeName"]);
            return node.Length > 0;
        }, $"pod {name} is bound");
        return node;
    }

    [Fact]
    public async Task PodsWithoutTolerationGoToWorkersAndTolerationsOpenControlPlanes()
    {
        var suffix = Guid.NewGuid().ToString("N")[..5];
        await CreatePodAsync("plain-" + suffix);
        var cp = fixture.Lab.ControlPlanes.Last().Name;
        await CreatePodAsync("pinned-" + suffix, new JsonObject { ["key"] = "node-role.kubernetes.io/control-plane", ["operator"] = "Exists", ["effect"] = "NoSchedule" }, cp);
        var worker = fixture.Lab.Workers.Single().Name;
        Assert.Equal(worker, await BoundNodeAsync("plain-" + suffix));
        Assert.Equal(cp, await BoundNodeAsync("pinned-" + suffix));

        var spread = new List<string>();
        for (var i = 0; i < 3; i++)
            await CreatePodAsync($"spread-{suffix}-{i}", new JsonObject { ["operator"] = "Exists" });
        for (var i = 0; i < 3; i++)
            spread.Add(await BoundNodeAsync($"spread-{suffix}-{i}"));
        Assert.True(spread.Distinct().Count() >= 2, $"pods tolerating every taint all went to {string.Join(", ", spread)}");
        var scheduled = await fixture.Admin.GetAsync($"/api/v1/namespaces/lab-2/pods/plain-{suffix}", CancellationToken.None);
        Assert.Contains((scheduled!["status"]?["conditions"] as JsonArray ?? []), c => WorkloadPods.Str(c?["type"]) == "PodScheduled" && WorkloadPods.Str(c?["status"]) == "True");
    }

    [Fact]
    public async Task OnlyOneSchedulerLeads()
    {
        var holder = await fixture.LeaseHolderAsync("kube-scheduler");
        Assert.False(string.IsNullOrEmpty(holder));
        Assert.Contains(fixture.Lab.ControlPlanes, n => holder!.StartsWith(n.Name + "_", StringComparison.Ordinal));
    }
}
