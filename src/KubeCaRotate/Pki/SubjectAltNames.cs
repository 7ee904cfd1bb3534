using System.Net;

namespace KubeCaRotate.Pki;

/// <summary>DNS and IP subject alternative names. Like kubeadm: duplicates removed, DNS names sorted, IPs in order.</summary>
public sealed record SubjectAltNames(IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses)
{
    public static readonly SubjectAltNames None = new([], []);

    public bool IsEmpty => DnsNames.Count == 0 && IpAddresses.Count == 0;

    /// <summary>
    /// Builds the set kubeadm would: each entry that parses as an IP becomes an IP SAN, a valid DNS name or wildcard a DNS
    /// SAN; anything else is returned in <paramref name="skipped"/> (kubeadm skips those with a warning).
    /// </summary>
    public static SubjectAltNames From(IEnumerable<string> dns, IEnumerable<IPAddress> ips, IEnumerable<string> extra, out IReadOnlyList<string> skipped)
    {
        var dnsSet = new SortedSet<string>(dns, StringComparer.Ordinal);
        var ipList = new List<IPAddress>();
        foreach (var ip in ips) AddIp(ipList, ip);
        var bad = new List<string>();
        foreach (var raw in extra)
        {
            var e = raw.Trim();
            if (e.Length == 0) continue;
            if (IPAddress.TryParse(e, out var ip)) AddIp(ipList, ip);
            else if (IsDnsName(e)) dnsSet.Add(e);
            else bad.Add(e);
        }
        skipped = bad;
        return new SubjectAltNames(dnsSet.ToArray(), ipList);
    }

    private static void AddIp(List<IPAddress> list, IPAddress ip)
    {
        if (!list.Contains(ip)) list.Add(ip);
    }

    /// <summary>An RFC 1123 subdomain, or a wildcard "*.sub.domain".</summary>
    public static bool IsDnsName(string name)
    {
        var n = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
        if (n.Length is 0 or > 253) return false;
        foreach (var label in n.Split('.'))
        {
            if (label.Length is 0 or > 63) return false;
            if (!char.IsAsciiLetterOrDigit(label[0]) || !char.IsAsciiLetterOrDigit(label[^1])) return false;
            if (label.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))) return false;
        }
        return true;
    }

    public override string ToString() =>
        string.Join(", ", DnsNames.Select(d => "DNS:" + d).Concat(IpAddresses.Select(i => "IP:" + i)));
}
