using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Rotation;

/// <summary>
/// Whether the API servers of an HA control plane can restart with no failed connection through its load balancer.
/// kube-apiserver fails /readyz from SIGTERM and keeps serving for --shutdown-delay-duration (kubeadm sets none, so 0):
/// without a delay it stops listening at once, and connections the load balancer hands it in that instant fail. The
/// rotation restarts every API server several times, so the operator is told before it starts.
/// </summary>
public static class ShutdownDelayCheck
{
    public static async Task<IReadOnlyList<string>> WarningsAsync(IReadOnlyList<INodeAccess> controlPlanes, KubeadmPaths paths, CancellationToken ct)
    {
        if (controlPlanes.Count < 2) return [];
        var without = new List<string>();
        foreach (var node in controlPlanes)
        {
            var file = NodePath.Combine(paths.ManifestsDir, KubeadmPaths.ApiServerManifestFileName);
            if (await node.ReadFileAsync(file, ct).ConfigureAwait(false) is not { } content) continue;
            var delay = StaticPodManifest.Parse(content, $"{file} on {node.Name}").GetFlag("shutdown-delay-duration");
            if (delay is null or "" or "0" or "0s") without.Add(node.Name);
        }
        return without.Count == 0 ? [] :
        [
            $"kube-apiserver on {string.Join(", ", without)} has no --shutdown-delay-duration: each time it restarts, connections the load balancer hands it in the instant it stops will fail. " +
            "For restarts with no failed connection, give it a delay longer than the load balancer needs to take it out (kubeadm ClusterConfiguration apiServer.extraArgs shutdown-delay-duration, e.g. 5s) before rotating.",
        ];
    }
}
