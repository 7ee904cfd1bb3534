using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>A CA certificate with its private key: what can sign.</summary>
public sealed record CertificateAuthority(X509Certificate2 Certificate, PrivateKey Key)
{
    /// <summary>Loads a CA pair, checking what kubeadm itself does not: the key matches the first certificate, which is a CA.</summary>
    public static CertificateAuthority Load(string certPem, string certSource, string keyPem, string keySource)
    {
        var bundle = PemBundle.ParseNonEmpty(certPem, certSource);
        var key = PrivateKey.FromPem(keyPem, keySource);
        var first = bundle.First!;
        if (!key.Matches(first))
        {
            var matching = bundle.Certificates.Skip(1).FirstOrDefault(key.Matches);
            throw new PkiException(matching is null
                ? $"{keySource} does not belong to the certificate in {certSource}; put the CA's own key beside it."
                : $"{certSource} is a bundle whose first certificate does not match {keySource} (the matching one is number {bundle.Certificates.ToList().IndexOf(matching) + 1}); kubeadm signs with the first, so put the certificate matching the key first.");
        }
        if (!CertificateFacts.IsCertificateAuthority(first))
            throw new PkiException($"{certSource} is not a CA certificate (basicConstraints CA:TRUE with keyCertSign is required); use a CA certificate.");
        return new CertificateAuthority(first, key);
    }

    public string CertificatePem() => Certificate.ExportCertificatePem() + "\n";
}
