using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// A trust gate for what the trust graph does not model: kubeadm's rules on a control-plane node's own files
/// (reference/kubeadm-pki.md §9.1–9.2), checked on the state after the changes. (1) The file behind KCM's
/// --cluster-signing-cert-file holds exactly one certificate and it matches --cluster-signing-key-file: the signer
/// refuses anything else ("expected 1 certificate, found N"). (2) A CA file with its key beside it leads with the
/// certificate matching that key: kubeadm signs with the first. Only nodes the changes touch are checked.
/// </summary>
public sealed class KubeadmLayoutGate(RotationPaths paths) : ITrustGate
{
    public async Task<IReadOnlyList<string>> CheckAsync(Step step, IReadOnlyList<StepChange> changes, RotationNodes nodes, CancellationToken ct)
    {
        var reasons = new List<string>();
        foreach (var group in changes.OfType<StepChange.FileWrite>().GroupBy(c => c.Node))
        {
            var node = nodes[group.Key];
            if (!node.IsControlPlane) continue;
            var after = group.ToDictionary(c => c.Path, c => c.Content, StringComparer.Ordinal);
            async Task<byte[]?> Read(string path) => after.TryGetValue(path, out var content) ? content : await node.Access.ReadFileAsync(path, ct).ConfigureAwait(false);

            var manifest = await Read(paths.Kubeadm.ControllerManagerManifest).ConfigureAwait(false);
            var signingCert = manifest is null ? null : TrustStoreEdits.ManifestFlagValue(manifest, "cluster-signing-cert-file", $"{node.Name}:{paths.Kubeadm.ControllerManagerManifest}");
            var signingKey = manifest is null ? null : TrustStoreEdits.ManifestFlagValue(manifest, "cluster-signing-key-file", $"{node.Name}:{paths.Kubeadm.ControllerManagerManifest}");
            if (!string.IsNullOrEmpty(signingCert) && !string.IsNullOrEmpty(signingKey))
            {
                var cert = await Read(signingCert).ConfigureAwait(false);
                var key = await Read(signingKey).ConfigureAwait(false);
                if (cert is not null && key is not null)
                {
                    var bundle = PemBundle.Parse(Encoding.ASCII.GetString(cert), $"{node.Name}:{signingCert}");
                    if (bundle.Count != 1)
                        reasons.Add($"the controller-manager on {node.Name} would sign with {signingCert}, which would hold {bundle.Count} certificates (its CSR signer needs exactly one)");
                    else if (!PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{signingKey}").Matches(bundle.First!))
                        reasons.Add($"the controller-manager on {node.Name} would sign with {signingCert}, whose certificate does not match {signingKey}");
                }
            }

            foreach (var ca in KubeadmCatalog.CertificateAuthorities)
            {
                var certPath = paths.CaCert(ca.Kind);
                var keyPath = paths.CaKey(ca.Kind);
                if (!after.ContainsKey(certPath) && !after.ContainsKey(keyPath)) continue;
                var cert = await Read(certPath).ConfigureAwait(false);
                var key = await Read(keyPath).ConfigureAwait(false);
                if (cert is null || key is null) continue;
                var bundle = PemBundle.Parse(Encoding.ASCII.GetString(cert), $"{node.Name}:{certPath}");
                if (bundle.First is { } first && !PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{keyPath}").Matches(first))
                    reasons.Add($"{node.Name}:{certPath} would not lead with the certificate of {keyPath} (kubeadm signs with the first certificate of the file)");
            }
        }
        return reasons;
    }
}
