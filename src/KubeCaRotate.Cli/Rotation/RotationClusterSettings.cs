using KubeCaRotate.Cli.ClusterAccess;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>The options every rotation command shares: which cluster, with node access (<see cref="ClusterSettings"/>), and the output format.</summary>
public class RotationClusterSettings : ClusterSettings
{
    /// <summary>The cluster the options name, opened for the rotation.</summary>
    public async Task<TargetCluster> OpenAsync(ApiUse use, CancellationToken ct) =>
        await TargetCluster.OpenAsync(await InventoryAsync(ct) ?? throw new UsageException("Pass --inventory FILE, or --kubeconfig FILE with --ssh-user USER."), use, ct);
}
