using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>
/// The plan of an HA rotation tells the operator when an API server has no --shutdown-delay-duration (kubeadm's
/// default), because its restarts would then cut connections handed to it by the load balancer.
/// </summary>
public class ShutdownDelayCheckTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;

    private static RotationRequest Request() => new() { Cas = [new CaRotationRequest(CaKind.Cluster, new NewCaSource.Generate())] };

    private static string Manifest(NodeDirectoryCluster cluster, string node) =>
        cluster.NodeRoot(node) + NodePath.Combine(Kubeadm.ManifestsDir, KubeadmPaths.ApiServerManifestFileName);

    [Fact]
    public async Task The_plan_names_the_api_servers_without_a_shutdown_delay_and_says_nothing_once_each_has_one()
    {
        using var cluster = fixture.Template.Copy();
        var plan = await CaRotation.PlanAsync(Request(), cluster.Cluster(new RecordingRestartObserver()) with { ProveLiveEndpoints = false });
        var warning = Assert.Single(plan.Warnings, w => w.Contains("--shutdown-delay-duration", StringComparison.Ordinal));
        Assert.StartsWith("kube-apiserver on cp-1, cp-2 has no --shutdown-delay-duration", warning);

        var manifest = StaticPodManifest.Parse(File.ReadAllBytes(Manifest(cluster, "cp-1")), "cp-1");
        manifest.SetFlag("shutdown-delay-duration", "5s");
        File.WriteAllBytes(Manifest(cluster, "cp-1"), manifest.ToBytes());
        plan = await CaRotation.PlanAsync(Request(), cluster.Cluster(new RecordingRestartObserver()) with { ProveLiveEndpoints = false });
        Assert.StartsWith("kube-apiserver on cp-2 has no", Assert.Single(plan.Warnings, w => w.Contains("--shutdown-delay-duration", StringComparison.Ordinal)));

        manifest = StaticPodManifest.Parse(File.ReadAllBytes(Manifest(cluster, "cp-2")), "cp-2");
        manifest.SetFlag("shutdown-delay-duration", "5s");
        File.WriteAllBytes(Manifest(cluster, "cp-2"), manifest.ToBytes());
        plan = await CaRotation.PlanAsync(Request(), cluster.Cluster(new RecordingRestartObserver()) with { ProveLiveEndpoints = false });
        Assert.DoesNotContain(plan.Warnings, w => w.Contains("--shutdown-delay-duration", StringComparison.Ordinal));
    }
}
