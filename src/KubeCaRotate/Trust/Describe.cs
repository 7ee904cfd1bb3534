using System.Globalization;

namespace KubeCaRotate.Trust;

/// <summary>How reports name components and times.</summary>
internal static class Describe
{
    public static string Component(string component, string node) => component switch
    {
        ComponentReloads.ApiServer => $"API server on {node}",
        ComponentReloads.ControllerManager => $"controller-manager on {node}",
        ComponentReloads.Scheduler => $"scheduler on {node}",
        ComponentReloads.Etcd => $"etcd on {node}",
        ComponentReloads.Kubelet => $"kubelet on node {node}",
        _ => $"{component} on {node}",
    };

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";
}
