using k8s.Models;

namespace KubeCaRotate.Cluster;

/// <summary>What a Node object tells about its machine: whether it is a control plane, and the address to reach it at.</summary>
public static class NodeObject
{
    public const string ControlPlaneLabel = "node-role.kubernetes.io/control-plane";

    /// <summary>The label kubeadm set before 1.24 (and alongside the new one from 1.20 to 1.23).</summary>
    public const string LegacyMasterLabel = "node-role.kubernetes.io/master";

    /// <summary>The address types tried in order: the cluster-internal address first, as kubeadm's own tools reach a node.</summary>
    public static readonly IReadOnlyList<string> AddressTypes = ["InternalIP", "ExternalIP", "Hostname"];

    public static bool IsControlPlane(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var labels = node.Metadata?.Labels;
        return labels is not null && (labels.ContainsKey(ControlPlaneLabel) || labels.ContainsKey(LegacyMasterLabel));
    }

    /// <summary>status.addresses' InternalIP, else ExternalIP, else Hostname; null when the node reports none of them.</summary>
    public static string? Address(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var addresses = node.Status?.Addresses ?? [];
        return AddressTypes
            .Select(type => addresses.FirstOrDefault(a => a.Type == type && !string.IsNullOrWhiteSpace(a.Address))?.Address)
            .FirstOrDefault(a => a is not null);
    }
}
