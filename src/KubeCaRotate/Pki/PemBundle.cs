using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>
/// An ordered list of certificates as kubeadm keeps them in a .crt file. kubeadm and the kubelet use the
/// first certificate as "the" certificate of the file, so order matters: the one matching the key beside
/// the file goes first.
/// </summary>
public sealed class PemBundle
{
    public PemBundle(IEnumerable<X509Certificate2> certificates) => Certificates = certificates.ToArray();

    public IReadOnlyList<X509Certificate2> Certificates { get; }

    public X509Certificate2? First => Certificates.Count > 0 ? Certificates[0] : null;

    public int Count => Certificates.Count;

    /// <summary>Reads every CERTIFICATE block; other blocks are ignored. Errors name <paramref name="source"/>.</summary>
    public static PemBundle Parse(string pem, string source)
    {
        var certs = new List<X509Certificate2>();
        foreach (var block in PemBlock.ReadAll(pem, source))
        {
            if (block.Label != "CERTIFICATE") continue;
            try
            {
                certs.Add(X509CertificateLoader.LoadCertificate(block.Data));
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new PkiException($"{source} has certificate number {certs.Count + 1} that is not valid DER ({e.Message.TrimEnd('.')}); restore the file from a backup or re-create it.", e);
            }
        }
        return new PemBundle(certs);
    }

    /// <summary>Like <see cref="Parse"/> but an empty result is an error.</summary>
    public static PemBundle ParseNonEmpty(string pem, string source)
    {
        var bundle = Parse(pem, source);
        if (bundle.Count == 0)
            throw new PkiException($"{source} holds no PEM certificate; check that the path points at a certificate (.crt) file.");
        return bundle;
    }

    public static PemBundle Of(params X509Certificate2[] certificates) => new(certificates);

    /// <summary>True when the bundle holds a certificate with the same DER bytes.</summary>
    public bool Contains(X509Certificate2 certificate) =>
        Certificates.Any(c => c.RawData.AsSpan().SequenceEqual(certificate.RawData));

    /// <summary>This bundle followed by every certificate of <paramref name="other"/> not already in it.</summary>
    public PemBundle Merge(PemBundle other) => Merge(other.Certificates);

    public PemBundle Merge(IEnumerable<X509Certificate2> others)
    {
        var list = new List<X509Certificate2>();
        foreach (var c in Certificates.Concat(others))
        {
            if (!list.Any(x => x.RawData.AsSpan().SequenceEqual(c.RawData))) list.Add(c);
        }
        return new PemBundle(list);
    }

    /// <summary>The bundle without any certificate equal to <paramref name="certificate"/>.</summary>
    public PemBundle Remove(X509Certificate2 certificate) =>
        new(Certificates.Where(c => !c.RawData.AsSpan().SequenceEqual(certificate.RawData)));

    /// <summary>The certificates matching <paramref name="key"/> first, the others after them in their order.</summary>
    public PemBundle OrderFor(PrivateKey key) =>
        new(Certificates.Where(key.Matches).Concat(Certificates.Where(c => !key.Matches(c))));

    public string ToPem() => string.Concat(Certificates.Select(c => c.ExportCertificatePem() + "\n"));
}
