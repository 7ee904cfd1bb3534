using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The kubelet's client certificate files in /var/lib/kubelet/pki as client-go's file store keeps them: one
/// kubelet-client-YYYY-MM-DD-HH-MM-SS.pem per certificate (certificate then key, 0600) and the
/// kubelet-client-current.pem link to the newest, replaced atomically. Reads and writes through the node handle.
/// </summary>
public sealed class KubeletClientCertificateStore(LocalNode node, TimeProvider time)
{
    public static readonly string CurrentPath = KubeadmPaths.Default.KubeletClientCurrent;

    /// <summary>Loads a certificate and its key from PEM files on the node (one file for both in the kubelet's store).</summary>
    public async Task<X509Certificate2> LoadAsync(string certificatePath, string? keyPath, CancellationToken ct)
    {
        var certificatePem = await ReadTextAsync(certificatePath, ct).ConfigureAwait(false);
        var keyPem = keyPath is null || keyPath == certificatePath ? certificatePem : await ReadTextAsync(keyPath, ct).ConfigureAwait(false);
        try
        {
            return X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new LabException($"The kubelet client certificate {certificatePath} (key {keyPath ?? certificatePath}) on {node.Name} cannot be loaded ({e.Message}); restore the file.", e);
        }
    }

    private async Task<string> ReadTextAsync(string path, CancellationToken ct) =>
        Encoding.ASCII.GetString(await node.ReadFileAsync(path, ct).ConfigureAwait(false)
            ?? throw new LabException($"The kubelet client certificate file {path} is missing on {node.Name}; restore it."));

    /// <summary>The node path kubelet-client-current.pem points to now, or null.</summary>
    public Task<string?> CurrentTargetAsync(CancellationToken ct) => node.ReadSymlinkAsync(CurrentPath, ct);

    /// <summary>Writes the dated PEM (0600) and points kubelet-client-current.pem at it; returns the dated node path.</summary>
    public async Task<string> InstallAsync(string certificatePem, string keyPem, CancellationToken ct)
    {
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture);
        var dated = NodePath.Combine(KubeadmPaths.Default.KubeletPkiDir, $"kubelet-client-{stamp}.pem");
        await node.WriteFileAsync(dated, Encoding.ASCII.GetBytes(certificatePem.TrimEnd() + "\n" + keyPem.TrimEnd() + "\n"), FileModes.Private, ct).ConfigureAwait(false);
        await node.CreateSymlinkAsync(CurrentPath, dated, ct).ConfigureAwait(false);
        return dated;
    }
}
