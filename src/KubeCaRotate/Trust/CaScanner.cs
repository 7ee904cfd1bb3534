using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Cluster;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Trust;

/// <summary>
/// Every place each CA appears in a snapshot, by SHA-256 fingerprint (node files, kubeconfigs' embedded data,
/// kubelet files, CNI kubeconfigs, Secrets, ConfigMaps, webhook/APIService/CRD caBundles), and every leaf each CA
/// signed, with its expiry. Pure: reads only the snapshot.
/// </summary>
public sealed class CaScanner
{
    private readonly CertificateCache _cache = new();

    public CaScan Scan(ClusterSnapshot snapshot, DateTimeOffset? at = null)
    {
        var when = at ?? snapshot.TakenAt;
        var found = new Dictionary<string, (X509Certificate2 Cert, List<CaPlace> Places)>(StringComparer.Ordinal);
        // The cluster CA alone appears in every namespace (kube-root-ca.crt, token Secrets): a set keeps the check for a
        // repeated place constant, where a search of the list made scan quadratic in the namespaces.
        var seen = new HashSet<(string Fingerprint, CaPlace Place)>();
        void Add(X509Certificate2 cert, CaPlace place)
        {
            var fp = CertificateFacts.Sha256Fingerprint(cert);
            if (!found.TryGetValue(fp, out var entry)) found[fp] = entry = (cert, []);
            if (seen.Add((fp, place))) entry.Places.Add(place);
        }
        foreach (var node in snapshot.Nodes)
        {
            foreach (var file in node.Files.Values)
            {
                var kubeconfig = LooksLikeKubeconfig(file.Content) ? _cache.Kubeconfig(file.Content, file.Path).Config : null;
                if (kubeconfig is not null)
                {
                    foreach (var c in kubeconfig.Clusters)
                        if (c.CertificateAuthorityData is { } data)
                            foreach (var cert in _cache.Certificates(data)) Add(cert, new CaPlace("kubeconfig", node.Name, $"{file.Path} cluster {c.Name} certificate-authority-data"));
                    foreach (var u in kubeconfig.Users)
                        if (u.ClientCertificateData is { } data)
                            foreach (var cert in _cache.Certificates(data)) Add(cert, new CaPlace("kubeconfig", node.Name, $"{file.Path} user {u.Name} client-certificate-data"));
                    continue;
                }
                foreach (var cert in _cache.Certificates(file.Content)) Add(cert, new CaPlace("file", node.Name, file.Path));
            }
        }
        if (snapshot.OperatorKubeconfig is { } op && _cache.Kubeconfig(op.Content, op.Path).Config is { } opConfig)
        {
            foreach (var c in opConfig.Clusters)
                if (c.CertificateAuthorityData is { } data)
                    foreach (var cert in _cache.Certificates(data)) Add(cert, new CaPlace("kubeconfig", null, $"{op.Path} cluster {c.Name} certificate-authority-data"));
            foreach (var u in opConfig.Users)
                if (u.ClientCertificateData is { } data)
                    foreach (var cert in _cache.Certificates(data)) Add(cert, new CaPlace("kubeconfig", null, $"{op.Path} user {u.Name} client-certificate-data"));
        }
        foreach (var d in snapshot.Objects?.CaData ?? [])
            foreach (var cert in _cache.Certificates(d.Pem)) Add(cert, new CaPlace("object", null, d.Location));

        var catalog = new CaCatalog();
        foreach (var (cert, _) in found.Values) catalog.Add(cert);
        var leaves = new Dictionary<string, List<IssuedLeaf>>(StringComparer.Ordinal);
        var orphans = new List<IssuedLeaf>();
        foreach (var (fp, (cert, places)) in found)
        {
            var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
            var leaf = new IssuedLeaf(cert.Subject, fp, notAfter, notAfter < when, places);
            if (CertificateFacts.IsCertificateAuthority(cert))
            {
                // An intermediate CA is also a leaf of its parent.
                if (catalog.IssuerOf(cert) is { } parent && parent.Sha256 != fp) Bucket(leaves, parent.Sha256).Add(leaf);
                continue;
            }
            if (catalog.IssuerOf(cert) is { } ca) Bucket(leaves, ca.Sha256).Add(leaf);
            else orphans.Add(leaf);
        }
        var authorities = catalog.All.Select(ca => new CaScanEntry(ca, found[ca.Sha256].Places,
            leaves.TryGetValue(ca.Sha256, out var l) ? l.OrderBy(x => x.Subject, StringComparer.Ordinal).ToList() : [])).ToList();
        return new CaScan(when, authorities, orphans, snapshot.Problems);
    }

    private static List<IssuedLeaf> Bucket(Dictionary<string, List<IssuedLeaf>> d, string key) =>
        d.TryGetValue(key, out var l) ? l : d[key] = [];

    private static bool LooksLikeKubeconfig(byte[] content) =>
        content.AsSpan().IndexOf("clusters:"u8) >= 0 && content.AsSpan().IndexOf("-----BEGIN"u8) < 0;
}
