using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Trust;

/// <summary>Parses PEM bundles and kubeconfigs once per distinct content: a cluster repeats the same bytes on many nodes and in many namespaces.</summary>
internal sealed class CertificateCache
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<X509Certificate2>> _bundles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Kubeconfig? Config, string? Error)> _kubeconfigs = new(StringComparer.Ordinal);

    public IReadOnlyList<X509Certificate2> Certificates(byte[] content) =>
        _bundles.GetOrAdd(Key(content), _ =>
        {
            try
            {
                return PemBundle.Parse(Encoding.ASCII.GetString(content), "certificate data").Certificates;
            }
            catch (PkiException)
            {
                return [];
            }
        });

    public IReadOnlyList<X509Certificate2> Certificates(string pem) => Certificates(Encoding.ASCII.GetBytes(pem));

    public (Kubeconfig? Config, string? Error) Kubeconfig(byte[] content, string source) =>
        _kubeconfigs.GetOrAdd(Key(content), _ =>
        {
            try
            {
                return (Layout.Kubeconfig.Parse(content, source), null);
            }
            catch (LayoutFormatException e)
            {
                return (null, e.Message);
            }
        });

    private static string Key(byte[] content) => Convert.ToHexString(SHA256.HashData(content));
}
