using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Layout;

/// <summary>
/// Reads and judges a kubeadm configuration directory (/etc/kubernetes or a copy): every CA, leaf and kubeconfig
/// client certificate, which CA really signs each (by chain building, not by names), and the defects an operator must
/// fix. Like `kubeadm certs check-expiration`, and more.
/// </summary>
public sealed class PkiInspector(TimeProvider time)
{
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <param name="node">The node holding the directory.</param>
    /// <param name="kubernetesDir">The node path of the kubeadm configuration directory ("/etc/kubernetes").</param>
    /// <param name="certificatesDir">The node path of the certificates directory (kubeadm's certificatesDir).</param>
    /// <param name="warnWithin">Certificates expiring sooner than this are reported.</param>
    public async Task<PkiInspectionReport> InspectAsync(
        INodeAccess node, string kubernetesDir, string certificatesDir, TimeSpan warnWithin, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var run = new Run(node, certificatesDir, now, warnWithin, ct);
        await run.InspectCasAsync().ConfigureAwait(false);
        await run.InspectLeavesAsync().ConfigureAwait(false);
        await run.InspectOtherFilesAsync().ConfigureAwait(false);
        await run.InspectKubeconfigsAsync(kubernetesDir).ConfigureAwait(false);
        await run.InspectKeyModesAsync().ConfigureAwait(false);
        return new PkiInspectionReport(kubernetesDir, now, run.Cas, run.Certificates, run.Problems);
    }

    private sealed class Run(INodeAccess node, string pkiDir, DateTimeOffset now, TimeSpan warnWithin, CancellationToken ct)
    {
        private readonly Dictionary<CaKind, PemBundle> _caBundles = [];
        private readonly HashSet<string> _seenFiles = [];

        public List<InspectedCertificate> Cas { get; } = [];

        public List<InspectedCertificate> Certificates { get; } = [];

        public List<PkiProblem> Problems { get; } = [];

        private string Pki(string relative) => NodePath.Combine(pkiDir, relative);

        public async Task InspectCasAsync()
        {
            foreach (var ca in KubeadmCatalog.CertificateAuthorities)
            {
                var certPath = Pki(ca.CertFile);
                var keyPath = Pki(ca.KeyFile);
                _seenFiles.Add(certPath);
                _seenFiles.Add(keyPath);
                var bundle = await ReadBundleAsync(certPath).ConfigureAwait(false);
                if (bundle is null) continue;
                _caBundles[ca.Kind] = bundle;
                var keyBytes = await node.ReadFileAsync(keyPath, ct).ConfigureAwait(false);
                var first = bundle.First!;
                if (keyBytes is not null) CheckKeyPair(certPath, bundle, keyPath, keyBytes);
                if (!CertificateFacts.IsCertificateAuthority(first))
                    Problems.Add(new(certPath, PkiProblemKind.NotSignedByItsCa, $"{certPath} should hold the {ca.Description} but its first certificate is not a CA; restore the CA certificate."));
                var selfSigned = CertificateFacts.BuildChain(first, bundle.Certificates, now, ignoreTime: true).Ok;
                Cas.Add(Describe(ca.Name, certPath, first, bundle.Count, selfSigned ? ca.Name : null, ca.Name, isCa: true, externallyManaged: keyBytes is null));
                CheckValidity(certPath, first);
            }
        }

        public async Task InspectLeavesAsync()
        {
            foreach (var leaf in KubeadmCatalog.Leaves)
            {
                var certPath = Pki(leaf.CertFile);
                var keyPath = Pki(leaf.KeyFile);
                _seenFiles.Add(certPath);
                _seenFiles.Add(keyPath);
                var bundle = await ReadBundleAsync(certPath).ConfigureAwait(false);
                if (bundle is null) continue;
                var keyBytes = await node.ReadFileAsync(keyPath, ct).ConfigureAwait(false);
                if (keyBytes is null)
                    Problems.Add(new(keyPath, PkiProblemKind.MissingKey, $"{keyPath} is missing beside {certPath}; re-issue the certificate and key together."));
                else
                    CheckKeyPair(certPath, bundle, keyPath, keyBytes);
                InspectSigned(leaf.Name, certPath, bundle, KubeadmCatalog.Ca(leaf.Ca));
            }
        }

        /// <summary>Certificates in the directory that kubeadm does not make (e.g. a staged CA, a custom client cert).</summary>
        public async Task InspectOtherFilesAsync()
        {
            foreach (var dir in new[] { pkiDir, Pki("etcd") })
            {
                foreach (var entry in await node.ListDirectoryAsync(dir, ct).ConfigureAwait(false))
                {
                    var path = NodePath.Combine(dir, entry.Name);
                    if (!entry.Name.EndsWith(".crt", StringComparison.Ordinal) || _seenFiles.Contains(path)) continue;
                    _seenFiles.Add(path);
                    var bundle = await ReadBundleAsync(path).ConfigureAwait(false);
                    if (bundle is null) continue;
                    var keyPath = path[..^4] + ".key";
                    _seenFiles.Add(keyPath);
                    var keyBytes = await node.ReadFileAsync(keyPath, ct).ConfigureAwait(false);
                    if (keyBytes is not null) CheckKeyPair(path, bundle, keyPath, keyBytes);
                    var first = bundle.First!;
                    if (CertificateFacts.IsCertificateAuthority(first))
                    {
                        Cas.Add(Describe(Path.GetFileNameWithoutExtension(entry.Name), path, first, bundle.Count, SignedBy(first, bundle), null, isCa: true, externallyManaged: keyBytes is null));
                        CheckValidity(path, first);
                    }
                    else
                    {
                        InspectSigned(Path.GetFileNameWithoutExtension(entry.Name), path, bundle, expected: null);
                    }
                }
            }
        }

        public async Task InspectKubeconfigsAsync(string kubernetesDir)
        {
            var clusterCa = _caBundles.GetValueOrDefault(CaKind.Cluster);
            foreach (var profile in KubeadmCatalog.Kubeconfigs)
            {
                var path = NodePath.Combine(kubernetesDir, profile.FileName);
                var bytes = await node.ReadFileAsync(path, ct).ConfigureAwait(false);
                if (bytes is null) continue;
                Kubeconfig config;
                try
                {
                    config = Kubeconfig.Parse(bytes, path);
                }
                catch (LayoutFormatException e)
                {
                    Problems.Add(new(path, PkiProblemKind.Unreadable, e.Message));
                    continue;
                }
                var cluster = config.CurrentCluster;
                var user = config.CurrentUser;
                if (cluster?.CertificateAuthorityData is { } caData)
                    CheckKubeconfigCa(path, caData, clusterCa);
                if (user is null) continue;
                PemBundle? clientBundle = null;
                string source;
                if (user.ClientCertificateData is { } certData)
                {
                    source = $"{path} (client-certificate-data)";
                    clientBundle = ParseBundle(Encoding.ASCII.GetString(certData), source);
                    if (clientBundle is not null && user.ClientKeyData is { } keyData)
                        CheckKeyPair(source, clientBundle, $"{path} (client-key-data)", keyData);
                }
                else if (user.ClientCertificate is { } certFile)
                {
                    source = $"{certFile} (client-certificate of {path})";
                    var fileBytes = await node.ReadFileAsync(certFile, ct).ConfigureAwait(false);
                    if (fileBytes is null) continue;
                    clientBundle = ParseBundle(Encoding.ASCII.GetString(fileBytes), source);
                    var keyFile = user.ClientKey ?? certFile;
                    var keyBytes = keyFile == certFile ? fileBytes : await node.ReadFileAsync(keyFile, ct).ConfigureAwait(false);
                    if (clientBundle is not null && keyBytes is not null) CheckKeyPair(source, clientBundle, keyFile, keyBytes);
                }
                else
                {
                    continue;
                }
                if (clientBundle is null || clientBundle.Count == 0) continue;
                InspectSigned(profile.FileName, source, clientBundle, KubeadmCatalog.ClusterCa);
                if (user.ClientKeyData is not null) await CheckSecretModeAsync(path).ConfigureAwait(false);
            }
        }

        public async Task InspectKeyModesAsync()
        {
            foreach (var dir in new[] { pkiDir, Pki("etcd") })
            {
                foreach (var entry in await node.ListDirectoryAsync(dir, ct).ConfigureAwait(false))
                {
                    if (entry.Name.EndsWith(".key", StringComparison.Ordinal))
                        await CheckSecretModeAsync(NodePath.Combine(dir, entry.Name)).ConfigureAwait(false);
                }
            }
        }

        private async Task CheckSecretModeAsync(string path)
        {
            var mode = await node.GetFileModeAsync(path, ct).ConfigureAwait(false);
            if (mode is { } m && (m & GroupOrOther) != 0)
                Problems.Add(new(path, PkiProblemKind.KeyReadableByOthers,
                    $"{path} holds a private key but its mode is {Convert.ToString((int)m, 8).PadLeft(4, '0')}; run 'chmod 600 {path}'."));
        }

        private void CheckKubeconfigCa(string path, byte[] caData, PemBundle? clusterCa)
        {
            var source = $"{path} (certificate-authority-data)";
            var bundle = ParseBundle(Encoding.ASCII.GetString(caData), source);
            if (bundle is null || clusterCa is null) return;
            var same = bundle.Count == clusterCa.Count && bundle.Certificates.All(clusterCa.Contains);
            if (!same)
            {
                var caFile = Pki(KubeadmCatalog.ClusterCa.CertFile);
                var detail = bundle.Certificates.Any(clusterCa.Contains)
                    ? $"it holds {bundle.Count} certificate(s) and {caFile} holds {clusterCa.Count}, not the same set"
                    : $"none of its {bundle.Count} certificate(s) is in {caFile}";
                Problems.Add(new(source, PkiProblemKind.KubeconfigCaMismatch,
                    $"The CA data of {path} does not match {caFile}: {detail}; clients using this kubeconfig may not trust the API server: write the CA of {caFile} into it."));
            }
        }

        private void InspectSigned(string name, string source, PemBundle bundle, CaProfile? expected)
        {
            var first = bundle.First!;
            var signedBy = SignedBy(first, bundle);
            Certificates.Add(Describe(name, source, first, bundle.Count, signedBy, expected?.Name, isCa: false, externallyManaged: false));
            if (expected is not null && signedBy != expected.Name)
            {
                var caFile = Pki(expected.CertFile);
                Problems.Add(new(source, PkiProblemKind.NotSignedByItsCa, signedBy is null
                    ? $"{source} is not signed by the {expected.Description} in {caFile} (nor by any other CA in this directory); re-issue it from {caFile}."
                    : $"{source} is signed by {signedBy}, not by the {expected.Description} in {caFile}; re-issue it from {caFile}."));
            }
            CheckValidity(source, first);
        }

        /// <summary>Which CA of the directory the certificate chains to (real chain building, validity ignored so that expiry is reported separately).</summary>
        private string? SignedBy(X509Certificate2 cert, PemBundle own)
        {
            foreach (var ca in KubeadmCatalog.CertificateAuthorities)
            {
                if (!_caBundles.TryGetValue(ca.Kind, out var roots)) continue;
                if (CertificateFacts.BuildChain(cert, roots.Certificates, now, own.Certificates.Skip(1), ignoreTime: true).Ok) return ca.Name;
            }
            return null;
        }

        private void CheckValidity(string source, X509Certificate2 cert)
        {
            var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
            var notBefore = new DateTimeOffset(cert.NotBefore.ToUniversalTime());
            if (notAfter <= now)
                Problems.Add(new(source, PkiProblemKind.Expired, $"{source} expired on {notAfter:yyyy-MM-dd HH:mm} UTC; renew it (for a leaf: 'kubeadm certs renew', for a CA: rotate it)."));
            else if (notAfter - now < warnWithin)
                Problems.Add(new(source, PkiProblemKind.ExpiringSoon, $"{source} expires on {notAfter:yyyy-MM-dd HH:mm} UTC, in {Humanize(notAfter - now)}; renew it before then."));
            if (notBefore > now)
                Problems.Add(new(source, PkiProblemKind.NotYetValid, $"{source} is not valid before {notBefore:yyyy-MM-dd HH:mm} UTC; check this machine's clock and the issuer's."));
        }

        private void CheckKeyPair(string certSource, PemBundle bundle, string keySource, byte[] keyBytes)
        {
            PrivateKey key;
            try
            {
                key = PrivateKey.FromPem(Encoding.ASCII.GetString(keyBytes), keySource);
            }
            catch (PkiException e)
            {
                Problems.Add(new(keySource, PkiProblemKind.Unreadable, e.Message));
                return;
            }
            using (key)
            {
                if (key.Matches(bundle.First!)) return;
                var index = bundle.Certificates.ToList().FindIndex(key.Matches);
                Problems.Add(index > 0
                    ? new(certSource, PkiProblemKind.BundleOrder,
                        $"{certSource} is a bundle whose first certificate does not match {keySource} (certificate {index + 1} does); kubeadm uses the first, so put the matching certificate first.")
                    : new(certSource, PkiProblemKind.KeyMismatch,
                        $"{keySource} does not match the certificate in {certSource}; put the right key beside it or re-issue both."));
            }
        }

        private async Task<PemBundle?> ReadBundleAsync(string path)
        {
            var bytes = await node.ReadFileAsync(path, ct).ConfigureAwait(false);
            return bytes is null ? null : ParseBundle(Encoding.ASCII.GetString(bytes), path);
        }

        private PemBundle? ParseBundle(string text, string source)
        {
            try
            {
                return PemBundle.ParseNonEmpty(text, source);
            }
            catch (PkiException e)
            {
                Problems.Add(new(source, PkiProblemKind.Unreadable, e.Message));
                return null;
            }
        }

        private InspectedCertificate Describe(string name, string source, X509Certificate2 cert, int count, string? signedBy, string? expected, bool isCa, bool externallyManaged)
        {
            var sans = CertificateFacts.AltNames(cert);
            var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
            return new InspectedCertificate(
                name, source, cert.Subject, cert.Issuer, signedBy, expected,
                sans.DnsNames.Select(d => "DNS:" + d).Concat(sans.IpAddresses.Select(i => "IP:" + i)).ToArray(),
                CertificateFacts.ExtendedKeyUsages(cert),
                new DateTimeOffset(cert.NotBefore.ToUniversalTime()), notAfter, notAfter - now,
                CertificateFacts.Sha256Fingerprint(cert), CertificateFacts.KeyType(cert), count, isCa, externallyManaged);
        }
    }

    public static string Humanize(TimeSpan span)
    {
        if (span < TimeSpan.Zero) return "expired";
        if (span.TotalDays >= 365) return $"{(int)(span.TotalDays / 365)}y";
        if (span.TotalDays >= 1) return $"{(int)span.TotalDays}d";
        if (span.TotalHours >= 1) return $"{(int)span.TotalHours}h";
        return $"{(int)span.TotalMinutes}m";
    }
}
