using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Pki;

/// <summary>A certificate with its private key.</summary>
public sealed record IssuedCertificate(X509Certificate2 Certificate, PrivateKey Key)
{
    public string CertificatePem() => Certificate.ExportCertificatePem() + "\n";

    public string KeyPem() => Key.ToPem();
}

/// <summary>A kubeconfig identity issued for one node: the profile, the client certificate and the server URL to write.</summary>
public sealed record IssuedKubeconfig(KubeconfigProfile Profile, IssuedCertificate Client, string Server);

/// <summary>A file of the certificates directory: path relative to it ("etcd/ca.key"), content and kubeadm's mode.</summary>
public sealed record PkiFile(string RelativePath, byte[] Content, UnixFileMode Mode)
{
    public const UnixFileMode Public = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    public const UnixFileMode Secret = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static PkiFile Text(string relativePath, string content, UnixFileMode mode) =>
        new(relativePath, System.Text.Encoding.ASCII.GetBytes(content), mode);
}
