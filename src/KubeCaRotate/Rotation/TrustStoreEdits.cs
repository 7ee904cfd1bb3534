using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The places a CA rotation edits, each as a pure function from the file's bytes to its new bytes (Talos style). Every
/// function returns the very input bytes when the edit is already made, so running a step again changes nothing and
/// "is this step done" is "does the function return its input".
/// </summary>
public static class TrustStoreEdits
{
    /// <summary>
    /// A CA bundle file (ca.crt, front-proxy-ca.crt, etcd/ca.crt, a kubelet clientCAFile). When the file has a key
    /// beside it (<paramref name="keyBeside"/>), the certificate matching that key is put first, because kubeadm signs
    /// with the first certificate of the file (reference/kubeadm-pki.md §9.1). An absent file is an empty store.
    /// </summary>
    public static byte[] CaBundleFile(byte[]? current, TrustStoreEdit edit, PrivateKey? keyBeside, string source)
    {
        var bundle = current is null ? new PemBundle([]) : PemBundle.Parse(Encoding.ASCII.GetString(current), source);
        var edited = edit.Apply(bundle, source) ?? bundle;
        if (keyBeside is not null)
        {
            if (!edited.Certificates.Any(keyBeside.Matches))
                throw new RotationException($"{source} would hold no certificate matching the key beside it; kubeadm signs with the first certificate of the file, so keep the CA of that key in it.");
            edited = edited.OrderFor(keyBeside);
        }
        return current is not null && SameOrder(bundle, edited) ? current : Encoding.ASCII.GetBytes(edited.ToPem());
    }

    /// <summary>
    /// The certificate-authority-data of a kubeconfig: every cluster entry whose embedded CA data holds
    /// <paramref name="scope"/> (the CA being rotated) or the edit's CA is edited; other clusters, and entries that
    /// name a CA file instead of embedding it, are left alone. Everything else in the file stays as it was.
    /// </summary>
    public static byte[] KubeconfigCaData(byte[] current, TrustStoreEdit edit, X509Certificate2 scope, string source)
    {
        var config = Kubeconfig.Parse(current, source);
        foreach (var cluster in config.Clusters)
        {
            if (cluster.CertificateAuthorityData is not { } data) continue;
            var bundle = PemBundle.Parse(Encoding.ASCII.GetString(data), $"{source} (certificate-authority-data of cluster '{cluster.Name}')");
            if (!bundle.Contains(scope) && !bundle.Contains(edit.Ca)) continue;
            var edited = edit.Apply(bundle, $"{source} (cluster '{cluster.Name}')");
            if (edited is not null) config.SetCertificateAuthorityData(cluster.Name, Encoding.ASCII.GetBytes(edited.ToPem()));
        }
        return config.IsChanged ? config.ToBytes() : current;
    }

    /// <summary>The CA bundles embedded in a kubeconfig's clusters, by cluster name (for checks and plans).</summary>
    public static IReadOnlyDictionary<string, PemBundle> KubeconfigCas(byte[] current, string source)
    {
        var config = Kubeconfig.Parse(current, source);
        return config.Clusters
            .Where(c => c.CertificateAuthorityData is not null)
            .ToDictionary(c => c.Name, c => PemBundle.Parse(Encoding.ASCII.GetString(c.CertificateAuthorityData!), source));
    }

    /// <summary>authentication.x509.clientCAFile of a kubelet config: the file whose trust store the kubelet API uses.</summary>
    public static string? KubeletClientCaFile(byte[] kubeletConfig, string source) =>
        KubeletConfigFile.Parse(kubeletConfig, source).ClientCAFile;

    /// <summary>Points a kubelet config's clientCAFile at <paramref name="path"/>; the rest of the file is untouched.</summary>
    public static byte[] SetKubeletClientCaFile(byte[] kubeletConfig, string path, string source)
    {
        var config = KubeletConfigFile.Parse(kubeletConfig, source);
        config.ClientCAFile = path;
        return config.IsChanged ? config.ToBytes() : kubeletConfig;
    }

    /// <summary>Sets one flag of a static pod manifest (e.g. --cluster-signing-cert-file) in place; the kubelet restarts the pod when the text changes.</summary>
    public static byte[] ManifestFlag(byte[] manifest, string flag, string value, string source)
    {
        var pod = StaticPodManifest.Parse(manifest, source);
        return pod.SetFlag(flag, value) ? pod.ToBytes() : manifest;
    }

    /// <summary>The value of one flag of a static pod manifest, or null when it is not set.</summary>
    public static string? ManifestFlagValue(byte[] manifest, string flag, string source) =>
        StaticPodManifest.Parse(manifest, source).GetFlag(flag);

    /// <summary>
    /// Sets a pod annotation of a static pod manifest: a content change the kubelet answers by restarting the pod (as
    /// kubeadm upgrade does), without touching any flag. The value names the step, so setting it again is no change.
    /// </summary>
    public static byte[] ManifestAnnotation(byte[] manifest, string annotation, string value, string source)
    {
        var pod = StaticPodManifest.Parse(manifest, source);
        return pod.SetAnnotation(annotation, value) ? pod.ToBytes() : manifest;
    }

    private static bool SameOrder(PemBundle a, PemBundle b) =>
        a.Count == b.Count && a.Certificates.Zip(b.Certificates).All(p => p.First.RawData.AsSpan().SequenceEqual(p.Second.RawData));
}
