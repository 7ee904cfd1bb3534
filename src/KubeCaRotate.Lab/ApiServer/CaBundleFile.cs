using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// A CA bundle file (such as --client-ca-file) that is re-read when it changes on disk, as kube-apiserver's
/// dynamic file content does since 1.17. A file that cannot be read or holds no certificate keeps the last good
/// content, as the real one does.
/// </summary>
internal sealed class CaBundleFile(string path)
{
    private readonly Lock _gate = new();
    private FileStamp _stamp;
    private Snapshot _current = new([], 0);

    public string Path { get; } = path;

    /// <summary>The certificates and a version number that changes whenever they do.</summary>
    public sealed record Snapshot(IReadOnlyList<X509Certificate2> Certificates, int Version);

    public Snapshot Current
    {
        get
        {
            var stamp = FileStamp.Of(Path);
            lock (_gate)
            {
                if (stamp == _stamp)
                    return _current;
                _stamp = stamp;
                try
                {
                    var certificates = new X509Certificate2Collection();
                    certificates.ImportFromPemFile(Path);
                    if (certificates.Count > 0)
                        _current = new Snapshot([.. certificates], _current.Version + 1);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
                {
                    // keep the last good bundle
                }
                return _current;
            }
        }
    }
}
