using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace KubeCaRotate.Pki;

/// <summary>
/// What kubeadm's ClusterConfiguration says about certificates: the inputs of every SAN rule and validity.
/// Defaults are kubeadm's.
/// </summary>
public sealed record ClusterPkiSpec
{
    public string ClusterName { get; init; } = "kubernetes";

    /// <summary>"host" or "host:port" ("[v6]:port" for IPv6); null when the cluster has none.</summary>
    public string? ControlPlaneEndpoint { get; init; }

    /// <summary>networking.serviceSubnet; the first CIDR of a comma list counts.</summary>
    public string ServiceSubnet { get; init; } = "10.96.0.0/12";

    public string DnsDomain { get; init; } = "cluster.local";

    public IReadOnlyList<string> ApiServerCertSans { get; init; } = [];

    public IReadOnlyList<string> EtcdServerCertSans { get; init; } = [];

    public IReadOnlyList<string> EtcdPeerCertSans { get; init; } = [];

    public KeyAlgorithm Algorithm { get; init; } = KeyAlgorithm.Rsa2048;

    /// <summary>certificateValidityPeriod, 8760h by default.</summary>
    public TimeSpan CertificateValidity { get; init; } = TimeSpan.FromHours(8760);

    /// <summary>caCertificateValidityPeriod, 87600h by default.</summary>
    public TimeSpan CaCertificateValidity { get; init; } = TimeSpan.FromHours(87600);

    public KubeadmVersionProfile Profile { get; init; } = KubeadmVersionProfile.Current;

    /// <summary>The first address of the first service CIDR: the "kubernetes" Service's cluster IP (10.96.0.1 by default).</summary>
    public IPAddress FirstServiceIp()
    {
        var first = ServiceSubnet.Split(',')[0].Trim();
        var slash = first.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(first[..slash], out var network) || !int.TryParse(first[(slash + 1)..], out var prefix))
            throw new ArgumentException($"The service subnet '{ServiceSubnet}' is not a CIDR such as 10.96.0.0/12.");
        var bytes = network.GetAddressBytes();
        var bits = bytes.Length * 8;
        if (prefix < 0 || prefix >= bits)
            throw new ArgumentException($"The service subnet '{ServiceSubnet}' has an impossible prefix length /{prefix}.");
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var mask = (BigInteger.One << bits) - (BigInteger.One << (bits - prefix));
        var result = (value & mask) + 1;
        var outBytes = result.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[bytes.Length];
        outBytes.CopyTo(padded, padded.Length - outBytes.Length);
        return new IPAddress(padded);
    }

    /// <summary>The host part of <see cref="ControlPlaneEndpoint"/> (no port, no brackets), or null.</summary>
    public string? ControlPlaneEndpointHost() => ControlPlaneEndpoint is null ? null : SplitHostPort(ControlPlaneEndpoint).Host;

    internal static (string Host, int? Port) SplitHostPort(string endpoint)
    {
        var e = endpoint.Trim();
        if (e.StartsWith('['))
        {
            var close = e.IndexOf(']');
            var host = e[1..close];
            var rest = e[(close + 1)..];
            return (host, rest.StartsWith(':') ? int.Parse(rest[1..]) : null);
        }
        var colon = e.LastIndexOf(':');
        if (colon > 0 && e.IndexOf(':') == colon && int.TryParse(e[(colon + 1)..], out var port)) return (e[..colon], port);
        return (e, null);
    }

    internal static string JoinHostPort(string host, int port) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]:{port}" : $"{host}:{port}";
}

/// <summary>What differs per node: its name and local API endpoint.</summary>
public sealed record NodePkiSpec(string Name, IPAddress AdvertiseAddress, int BindPort = 6443)
{
    /// <summary>https://advertiseAddress:bindPort — what controller-manager.conf and scheduler.conf use.</summary>
    public string LocalEndpointUrl() => "https://" + ClusterPkiSpec.JoinHostPort(AdvertiseAddress.ToString(), BindPort);
}

/// <summary>A node of a cluster: the input of every per-node rule of the catalog.</summary>
public sealed record PkiContext(ClusterPkiSpec Cluster, NodePkiSpec Node)
{
    /// <summary>The API server URL kubeadm writes into admin.conf and kubelet.conf: the control-plane endpoint when set.</summary>
    public string ControlPlaneUrl()
    {
        if (Cluster.ControlPlaneEndpoint is null) return Node.LocalEndpointUrl();
        var (host, port) = ClusterPkiSpec.SplitHostPort(Cluster.ControlPlaneEndpoint);
        return "https://" + ClusterPkiSpec.JoinHostPort(host, port ?? Node.BindPort);
    }
}
