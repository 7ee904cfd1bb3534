using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>Builds the <see cref="RotationApi"/> a rotation uses, over its own <see cref="RotationApiConnection"/>.</summary>
public static class ClusterRotationApi
{
    /// <summary>The API side of a rotation of the cluster whose nodes are <paramref name="nodes"/>.</summary>
    public static RotationApi Create(RotationNodes nodes, RotationPaths paths, RotationApiConnection connection, TimeProvider time) =>
        new(new ClusterRestartObserver(connection, nodes, paths, time),
            new ClusterWorkloads(connection, time),
            new ClusterRootCaWatch(connection, time),
            new RotationObjects(connection),
            new ClusterObjectBackup(connection, nodes, paths, time),
            new ClusterRotationLock(connection, time));
}
