namespace KubeCaRotate.Lab.Topology;

/// <summary>One node of the lab: its own loopback address and ports, so every component listens where the manifests say.</summary>
public sealed record LabNode
{
    public required string Name { get; init; }

    public required bool IsControlPlane { get; init; }

    /// <summary>The node's address (a distinct 127.0.0.x per node): advertise address and InternalIP.</summary>
    public required string Address { get; init; }

    public int ApiServerPort { get; init; }

    public int EtcdClientPort { get; init; }

    public int EtcdPeerPort { get; init; }

    public int EtcdMetricsPort { get; init; }

    public int ControllerManagerPort { get; init; }

    public int SchedulerPort { get; init; }

    public int KubeletPort { get; init; }

    public int KubeletHealthzPort { get; init; }

    /// <summary>The directory standing for the node's "/", relative to the lab directory.</summary>
    public string RootRelative => Path.Combine("nodes", Name);

    public string ApiServerUrl => $"https://{Address}:{ApiServerPort}";

    public string EtcdClientUrl => $"https://{Address}:{EtcdClientPort}";

    public string EtcdPeerUrl => $"https://{Address}:{EtcdPeerPort}";
}
