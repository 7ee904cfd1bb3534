using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Trust;

/// <summary>
/// Real X.509 verification as Go's crypto/x509 does it for Kubernetes components: custom roots only, validity of
/// every certificate up to the anchor at a given time, the leaf's extended key usage, and (for a server) the name the
/// client dials against the SANs (the CN is ignored). Every certificate of a trust bundle is an anchor, as in Go:
/// .NET on Linux does not stop at a non-self-signed certificate of the custom store, so a chain that reaches any
/// bundle certificate is accepted when the certificates up to it are valid. Results are cached: the same leaf and
/// bundle appear on many edges.
/// </summary>
public sealed class TrustBundleVerifier
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private const string AnyUsageOid = "2.5.29.37.0";

    private readonly ConcurrentDictionary<string, ChainVerdict> _chains = new(StringComparer.Ordinal);

    /// <param name="presented">The presented chain, leaf first (a serving certificate file may carry intermediates).</param>
    /// <param name="bundle">Every certificate the verifier trusts.</param>
    /// <param name="usageOid">The extended key usage the leaf needs (server or client auth).</param>
    /// <param name="host">For a server certificate, the name or address the client dials; null for a client certificate.</param>
    public ChainVerdict Verify(IReadOnlyList<X509Certificate2> presented, IReadOnlyList<X509Certificate2> bundle, DateTimeOffset at, string usageOid, string? host)
    {
        if (presented.Count == 0) return new ChainVerdict(ChainFailure.NothingPresented, "presents no certificate", null);
        if (bundle.Count == 0) return new ChainVerdict(ChainFailure.NothingTrusted, "trusts no certificate at all", null);
        var leaf = presented[0];
        var key = string.Join(",", presented.Select(c => c.Thumbprint)) + "|" + string.Join(",", bundle.Select(c => c.Thumbprint).Order(StringComparer.Ordinal)) + "|" + at.UtcTicks;
        var verdict = _chains.GetOrAdd(key, _ => BuildChain(presented, bundle, at));
        if (!verdict.Ok) return verdict;
        if (!HasUsage(leaf, usageOid))
            return new ChainVerdict(ChainFailure.WrongUsage, $"has a certificate (CN={CertificateFacts.CommonName(leaf)}) without the {(usageOid == ServerAuthOid ? "serverAuth" : "clientAuth")} usage", verdict.Anchor);
        if (host is not null && !MatchesHost(leaf, host))
        {
            var sans = CertificateFacts.AltNames(leaf);
            var names = sans.DnsNames.Concat(sans.IpAddresses.Select(i => i.ToString())).ToList();
            return new ChainVerdict(ChainFailure.NameMismatch, $"serves a certificate (CN={CertificateFacts.CommonName(leaf)}) that is not valid for {host}: it names {(names.Count == 0 ? "no SANs" : string.Join(", ", names))}", verdict.Anchor);
        }
        return verdict;
    }

    private static ChainVerdict BuildChain(IReadOnlyList<X509Certificate2> presented, IReadOnlyList<X509Certificate2> bundle, DateTimeOffset at)
    {
        var leaf = presented[0];
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        foreach (var c in bundle)
        {
            chain.ChainPolicy.CustomTrustStore.Add(c);
            chain.ChainPolicy.ExtraStore.Add(c);
        }
        foreach (var c in presented.Skip(1)) chain.ChainPolicy.ExtraStore.Add(c);
        var built = chain.Build(leaf);
        var elements = chain.ChainElements.Select(e => (e.Certificate, Status: e.ChainElementStatus.Aggregate(X509ChainStatusFlags.NoError, (a, s) => a | s.Status))).ToList();
        var anchorIndex = elements.FindIndex(e => bundle.Any(b => b.RawData.AsSpan().SequenceEqual(e.Certificate.RawData)));
        if (anchorIndex < 0)
        {
            if (built) return ChainVerdict.Accepted(elements[^1].Certificate);
            return new ChainVerdict(ChainFailure.UntrustedIssuer, null, null);
        }
        // Up to the anchor everything must be valid; an anchor that is not a self-signed root is fine (Go semantics).
        const X509ChainStatusFlags anchorAccepted = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain;
        for (var i = 0; i <= anchorIndex; i++)
        {
            var (cert, status) = elements[i];
            status &= ~anchorAccepted;
            if (status == X509ChainStatusFlags.NoError) continue;
            if (status.HasFlag(X509ChainStatusFlags.NotTimeValid))
            {
                var expired = at > cert.NotAfter;
                if (i == 0)
                    return new ChainVerdict(expired ? ChainFailure.LeafExpired : ChainFailure.LeafNotYetValid,
                        expired ? $"has a certificate (CN={CertificateFacts.CommonName(cert)}) that expired at {cert.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z"
                                : $"has a certificate (CN={CertificateFacts.CommonName(cert)}) that is not valid before {cert.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z", null);
                return new ChainVerdict(ChainFailure.CaNotTimeValid,
                    $"has a certificate whose CA (CN={CertificateFacts.CommonName(cert)}) {(expired ? "expired at " + cert.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss") + "Z" : "is not valid yet")}", null);
            }
            var text = string.Join("; ", chain.ChainElements[i].ChainElementStatus.Where(s => (s.Status & ~anchorAccepted) != 0).Select(s => s.StatusInformation.Trim()).Distinct());
            return new ChainVerdict(ChainFailure.Other, $"has a certificate (CN={CertificateFacts.CommonName(cert)}) that fails verification ({text})", null);
        }
        return ChainVerdict.Accepted(elements[anchorIndex].Certificate);
    }

    private static bool HasUsage(X509Certificate2 leaf, string oid)
    {
        var eku = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (eku is null) return true;
        return eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == oid || o.Value == AnyUsageOid);
    }

    /// <summary>Go's hostname check: an IP against IP SANs, a name against DNS SANs (one-label wildcards), never the CN.</summary>
    public static bool MatchesHost(X509Certificate2 leaf, string host)
    {
        var sans = CertificateFacts.AltNames(leaf);
        var h = host.Trim('[', ']');
        if (IPAddress.TryParse(h, out var ip)) return sans.IpAddresses.Any(a => a.Equals(ip));
        h = h.TrimEnd('.').ToLowerInvariant();
        foreach (var name in sans.DnsNames.Select(n => n.TrimEnd('.').ToLowerInvariant()))
        {
            if (name == h) return true;
            if (name.StartsWith("*.", StringComparison.Ordinal) && h.IndexOf('.') is var dot and > 0 && h[(dot + 1)..] == name[2..]) return true;
        }
        return false;
    }
}
