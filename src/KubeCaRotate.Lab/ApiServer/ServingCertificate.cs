using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The serving certificate and key from --tls-cert-file/--tls-private-key-file, re-read when either file changes
/// (kube-apiserver's dynamic serving certificate, 1.17+). The certificate file may hold a chain, leaf first.
/// While the pair on disk does not match (one file written, the other not yet), the last good pair is served.
/// </summary>
internal sealed class ServingCertificate
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly Lock _gate = new();
    private (FileStamp Cert, FileStamp Key) _stamps;
    private (X509Certificate2 Leaf, X509Certificate2Collection Chain, int Version)? _current;

    public ServingCertificate(string certFile, string keyFile)
    {
        _certFile = certFile;
        _keyFile = keyFile;
        if (Current is null)
            throw new InvalidOperationException(
                $"The serving certificate {certFile} with key {keyFile} cannot be loaded: check that both are PEM files and that the key matches the certificate.");
    }

    public (X509Certificate2 Leaf, X509Certificate2Collection Chain, int Version)? Current
    {
        get
        {
            var stamps = (FileStamp.Of(_certFile), FileStamp.Of(_keyFile));
            lock (_gate)
            {
                if (stamps == _stamps)
                    return _current;
                _stamps = stamps;
                try
                {
                    var leaf = X509Certificate2.CreateFromPemFile(_certFile, _keyFile);
                    var all = new X509Certificate2Collection();
                    all.ImportFromPemFile(_certFile);
                    var chain = new X509Certificate2Collection();
                    foreach (var c in all.Skip(1))
                        chain.Add(c);
                    _current = (leaf, chain, (_current?.Version ?? 0) + 1);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
                {
                    _stamps = default; // try again on the next handshake
                }
                return _current;
            }
        }
    }
}
