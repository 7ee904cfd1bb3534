using System.Net;
using System.Numerics;

namespace KubeCaRotate.Layout;

/// <summary>Addresses kubeadm derives from the service CIDR.</summary>
public static class ServiceNetwork
{
    /// <summary>The cluster DNS address: the tenth address of the (first) service CIDR, e.g. 10.96.0.10.</summary>
    public static string ClusterDnsAddress(string serviceCidr) => Offset(serviceCidr, 10);

    /// <summary>The API server's service address: the first address of the service CIDR, e.g. 10.96.0.1.</summary>
    public static string ApiServerServiceAddress(string serviceCidr) => Offset(serviceCidr, 1);

    private static string Offset(string serviceCidr, int offset)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceCidr);
        var first = serviceCidr.Split(',')[0].Trim();
        if (!IPNetwork.TryParse(first, out var network))
        {
            throw new FormatException($"The service CIDR '{serviceCidr}' is not a CIDR such as 10.96.0.0/12.");
        }

        var bytes = network.BaseAddress.GetAddressBytes();
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true) + offset;
        var result = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[bytes.Length];
        Array.Copy(result, 0, padded, padded.Length - result.Length, result.Length);
        return new IPAddress(padded).ToString();
    }
}
