using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The CSR signer's CA as kube-controller-manager's ca_provider keeps it: --cluster-signing-cert-file must hold exactly
/// one certificate (a bundle is refused: "expected 1 certificate, found N"), and both files are read again before every
/// signing, so a changed signing CA is used without a restart.
/// </summary>
public sealed class ClusterSigningAuthority(string certFile, string keyFile)
{
    public string CertFile { get; } = certFile;

    public string KeyFile { get; } = keyFile;

    /// <summary>Reads both files now. Throws <see cref="InvalidOperationException"/> with one sentence when they are not one certificate and its key.</summary>
    public CertificateAuthority Current()
    {
        string certPem, keyPem;
        try
        {
            certPem = File.ReadAllText(CertFile);
            keyPem = File.ReadAllText(KeyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"error reading the signing CA ({e.Message}); check --cluster-signing-cert-file and --cluster-signing-key-file.", e);
        }
        var bundle = PemBundle.Parse(certPem, CertFile);
        if (bundle.Count != 1)
            throw new InvalidOperationException($"error reading CA cert file \"{CertFile}\": expected 1 certificate, found {bundle.Count}; point --cluster-signing-cert-file at a file holding only the signing CA.");
        var key = PrivateKey.FromPem(keyPem, KeyFile);
        if (!key.Matches(bundle.First!))
            throw new InvalidOperationException($"The signing key {KeyFile} does not belong to the certificate in {CertFile}; give the matching pair.");
        return new CertificateAuthority(bundle.First!, key);
    }
}
