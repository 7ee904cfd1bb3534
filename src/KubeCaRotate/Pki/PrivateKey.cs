using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>
/// A private key of a type kubeadm writes: RSA (PEM PKCS#1, "RSA PRIVATE KEY") or ECDSA P-256/P-384
/// (PEM SEC1, "EC PRIVATE KEY"). PKCS#8 ("PRIVATE KEY") is accepted on input.
/// </summary>
public sealed class PrivateKey : IDisposable
{
    private PrivateKey(AsymmetricAlgorithm key, KeyAlgorithm algorithm)
    {
        Key = key;
        Algorithm = algorithm;
    }

    public AsymmetricAlgorithm Key { get; }

    public KeyAlgorithm Algorithm { get; }

    public static PrivateKey Generate(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.Rsa2048 => new PrivateKey(RSA.Create(2048), algorithm),
        KeyAlgorithm.Rsa3072 => new PrivateKey(RSA.Create(3072), algorithm),
        KeyAlgorithm.Rsa4096 => new PrivateKey(RSA.Create(4096), algorithm),
        KeyAlgorithm.EcdsaP256 => new PrivateKey(ECDsa.Create(ECCurve.NamedCurves.nistP256), algorithm),
        KeyAlgorithm.EcdsaP384 => new PrivateKey(ECDsa.Create(ECCurve.NamedCurves.nistP384), algorithm),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Reads the first private key block of a PEM text. <paramref name="source"/> names it in errors.</summary>
    public static PrivateKey FromPem(string pem, string source)
    {
        var blocks = PemBlock.ReadAll(pem, source);
        var block = blocks.FirstOrDefault(b => b.Label is "RSA PRIVATE KEY" or "EC PRIVATE KEY" or "PRIVATE KEY")
            ?? throw new PkiException(
                blocks.Any(b => b.Label == "ENCRYPTED PRIVATE KEY")
                    ? $"{source} holds an encrypted private key; kubeadm and this tool need it unencrypted: decrypt it with 'openssl pkey -in {source} -out <file>'."
                    : $"{source} holds no private key (expected a PEM block 'RSA PRIVATE KEY', 'EC PRIVATE KEY' or 'PRIVATE KEY'); check that this is the key file and not a certificate.");
        try
        {
            switch (block.Label)
            {
                case "RSA PRIVATE KEY":
                {
                    var rsa = RSA.Create();
                    rsa.ImportRSAPrivateKey(block.Data, out _);
                    return new PrivateKey(rsa, RsaAlgorithm(rsa.KeySize, source));
                }
                case "EC PRIVATE KEY":
                {
                    var ec = ECDsa.Create();
                    ec.ImportECPrivateKey(block.Data, out _);
                    return new PrivateKey(ec, EcAlgorithm(ec, source));
                }
                default:
                    return FromPkcs8(block.Data, source);
            }
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"{source} holds a '{block.Label}' block that cannot be read as a key ({e.Message.TrimEnd('.')}); the file is damaged or truncated: restore it from a backup.", e);
        }
    }

    private static PrivateKey FromPkcs8(byte[] der, string source)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(der, out _);
            return new PrivateKey(rsa, RsaAlgorithm(rsa.KeySize, source));
        }
        catch (CryptographicException)
        {
        }
        try
        {
            var ec = ECDsa.Create();
            ec.ImportPkcs8PrivateKey(der, out _);
            return new PrivateKey(ec, EcAlgorithm(ec, source));
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"{source} holds a PKCS#8 key that is neither RSA nor ECDSA; kubeadm accepts only RSA and ECDSA keys: use one of {string.Join(", ", KeyAlgorithms.KubeadmNames)}.", e);
        }
    }

    private static KeyAlgorithm RsaAlgorithm(int bits, string source) => bits switch
    {
        2048 => KeyAlgorithm.Rsa2048,
        3072 => KeyAlgorithm.Rsa3072,
        4096 => KeyAlgorithm.Rsa4096,
        _ => throw new PkiException($"{source} holds a {bits}-bit RSA key; use a 2048, 3072 or 4096-bit key as kubeadm does."),
    };

    private static KeyAlgorithm EcAlgorithm(ECDsa ec, string source)
    {
        var oid = ec.ExportParameters(false).Curve.Oid;
        return oid.Value switch
        {
            "1.2.840.10045.3.1.7" => KeyAlgorithm.EcdsaP256,
            "1.3.132.0.34" => KeyAlgorithm.EcdsaP384,
            _ => throw new PkiException($"{source} holds an ECDSA key on curve {oid.FriendlyName ?? oid.Value}; use P-256 or P-384 as kubeadm does."),
        };
    }

    /// <summary>The key in kubeadm's encoding: PKCS#1 for RSA, SEC1 for ECDSA.</summary>
    public string ToPem() => Key switch
    {
        RSA rsa => PemEncoding.WriteString("RSA PRIVATE KEY", rsa.ExportRSAPrivateKey()) + "\n",
        ECDsa ec => PemEncoding.WriteString("EC PRIVATE KEY", ec.ExportECPrivateKey()) + "\n",
        _ => throw new InvalidOperationException("unsupported key"),
    };

    /// <summary>The public key as PKIX "PUBLIC KEY" PEM, as kubeadm writes sa.pub.</summary>
    public string PublicKeyPem() =>
        PemEncoding.WriteString("PUBLIC KEY", Key.ExportSubjectPublicKeyInfo()) + "\n";

    public byte[] SubjectPublicKeyInfo() => Key.ExportSubjectPublicKeyInfo();

    /// <summary>True when <paramref name="certificate"/> carries this key's public half.</summary>
    public bool Matches(X509Certificate2 certificate) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(SubjectPublicKeyInfo());

    /// <summary>The signature hash Go's x509 picks for this signer: SHA-384 for P-384, SHA-256 otherwise.</summary>
    internal HashAlgorithmName SignatureHash =>
        Algorithm == KeyAlgorithm.EcdsaP384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;

    internal X509SignatureGenerator SignatureGenerator() => Key switch
    {
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        _ => throw new InvalidOperationException("unsupported key"),
    };

    public string Describe() => Algorithm.ToKubeadmName();

    public void Dispose() => Key.Dispose();
}
