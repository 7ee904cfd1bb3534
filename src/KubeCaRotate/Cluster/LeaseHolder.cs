using System.Globalization;

namespace KubeCaRotate.Cluster;

/// <summary>Who holds the rotation lock: the rotation, the host and the process, written as holderIdentity "&lt;rotationId&gt;@&lt;host&gt;/&lt;pid&gt;".</summary>
public sealed record LeaseHolder(string RotationId, string Host, int Pid)
{
    public override string ToString() => $"{RotationId}@{Host}/{Pid.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The holder written in <paramref name="identity"/>, or null when it is empty or not of this form (another tool's Lease).</summary>
    public static LeaseHolder? Parse(string? identity)
    {
        if (string.IsNullOrEmpty(identity)) return null;
        var at = identity.IndexOf('@');
        var slash = identity.LastIndexOf('/');
        if (at <= 0 || slash <= at + 1 || !int.TryParse(identity.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return null;
        return new LeaseHolder(identity[..at], identity[(at + 1)..slash], pid);
    }
}
