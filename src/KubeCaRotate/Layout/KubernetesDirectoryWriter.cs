using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Layout;

/// <summary>
/// Writes what `kubeadm init phase certs all` and `kubeadm init phase kubeconfig all` write on one control-plane node:
/// the certificates directory and the kubeconfig files, with kubeadm's names and modes.
/// </summary>
public static class KubernetesDirectoryWriter
{
    private const UnixFileMode KubeconfigMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The files to write, as node paths under <paramref name="paths"/>, with their content and mode.</summary>
    public static IReadOnlyList<(string Path, byte[] Content, UnixFileMode Mode)> Files(NodePki pki, KubeadmPaths paths)
    {
        var files = pki.Files()
            .Select(f => (NodePath.Combine(paths.CertificatesDir, f.RelativePath), f.Content, f.Mode))
            .ToList();
        var caPem = Encoding.ASCII.GetBytes(pki.Shared.Cluster.CertificatePem());
        foreach (var k in pki.Kubeconfigs)
        {
            var user = k.Profile.CommonName(pki.Context);
            var config = Kubeconfig.Create(pki.Context.Cluster.ClusterName, k.Server, caPem, user,
                Encoding.ASCII.GetBytes(k.Client.CertificatePem()), Encoding.ASCII.GetBytes(k.Client.KeyPem()));
            files.Add((NodePath.Combine(paths.KubernetesDir, k.Profile.FileName), config.ToBytes(), KubeconfigMode));
        }
        return files;
    }

    /// <summary>
    /// Writes every file, or nothing: when any target exists and <paramref name="overwrite"/> is false, throws
    /// <see cref="InvalidOperationException"/> naming the existing files before anything is written.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(INodeAccess node, NodePki pki, KubeadmPaths paths, bool overwrite, CancellationToken ct = default)
    {
        var files = Files(pki, paths);
        if (!overwrite)
        {
            var existing = new List<string>();
            foreach (var f in files)
                if (await node.ExistsAsync(f.Path, ct).ConfigureAwait(false)) existing.Add(f.Path);
            if (existing.Count > 0)
                throw new InvalidOperationException(
                    $"{existing.Count} file(s) already exist on {node.Name}, e.g. {existing[0]}; nothing was written: choose an empty directory or pass --force to overwrite.");
        }
        foreach (var f in files) await node.WriteFileAsync(f.Path, f.Content, f.Mode, ct).ConfigureAwait(false);
        return files.Select(f => f.Path).ToArray();
    }

    /// <summary>
    /// Reads the shared material (the three CAs and the service-account key) from an existing certificates directory, as
    /// `kubeadm join --control-plane` receives it. Every CA must come with its key.
    /// </summary>
    public static async Task<SharedPki> ReadSharedAsync(INodeAccess node, string certificatesDir, CancellationToken ct = default)
    {
        async Task<(string Text, string Path)> Read(string relative, string what)
        {
            var path = NodePath.Combine(certificatesDir, relative);
            var bytes = await node.ReadFileAsync(path, ct).ConfigureAwait(false);
            return bytes is null
                ? throw new PkiException(relative.EndsWith(".key", StringComparison.Ordinal) && relative != KubeadmCatalog.ServiceAccountKeyFile
                    ? $"{path} is missing: the {what} has no private key here (kubeadm's external-CA mode), so no certificate can be issued from it; copy the CA key into {certificatesDir} or issue the certificates with the external CA."
                    : $"{path} is missing: the {what} is needed; point at a complete kubeadm certificates directory.")
                : (Encoding.ASCII.GetString(bytes), path);
        }

        async Task<CertificateAuthority> Ca(CaProfile profile)
        {
            var cert = await Read(profile.CertFile, profile.Description).ConfigureAwait(false);
            var key = await Read(profile.KeyFile, profile.Description).ConfigureAwait(false);
            return CertificateAuthority.Load(cert.Text, cert.Path, key.Text, key.Path);
        }

        var cluster = await Ca(KubeadmCatalog.ClusterCa).ConfigureAwait(false);
        var frontProxy = await Ca(KubeadmCatalog.FrontProxyCa).ConfigureAwait(false);
        var etcd = await Ca(KubeadmCatalog.EtcdCa).ConfigureAwait(false);
        var sa = await Read(KubeadmCatalog.ServiceAccountKeyFile, "service-account signing key").ConfigureAwait(false);
        return new SharedPki(cluster, frontProxy, etcd, PrivateKey.FromPem(sa.Text, sa.Path));
    }
}
