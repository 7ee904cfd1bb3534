using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Lab.Etcd;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// Loads an edge's credentials from its files and keeps them until one of the files changes (size, time or, for a
/// link such as kubelet-client-current.pem, its target), so each attempt uses what is on disk without parsing PEM
/// every second.
/// </summary>
internal sealed class CredentialCache
{
    private readonly ConcurrentDictionary<EdgeCredentials, (string Stamp, EdgeMaterial Material)> _cache = new();

    /// <summary>The loaded material, or an exception whose message says which file cannot be used.</summary>
    public EdgeMaterial Load(EdgeCredentials credentials)
    {
        var stamp = Stamp(credentials);
        if (_cache.TryGetValue(credentials, out var hit) && hit.Stamp == stamp) return hit.Material;
        var material = credentials.AsEtcdClient ? LoadEtcd(credentials) : LoadHttps(credentials);
        _cache[credentials] = (stamp, material);
        return material;
    }

    private static EdgeMaterial LoadEtcd(EdgeCredentials c)
    {
        var tls = EtcdClientTls.Load(c.TrustBundleFile!, c.ClientCertificateFile!, c.ClientKeyFile!);
        return new EdgeMaterial(tls.ClientCertificate, null, tls.CheckServerCertificate, [.. tls.Trust]);
    }

    private static EdgeMaterial LoadHttps(EdgeCredentials c)
    {
        Func<System.Security.Cryptography.X509Certificates.X509Certificate?, X509Chain?, System.Net.Security.SslPolicyErrors, DateTimeOffset, string?>? check = null;
        IReadOnlyList<X509Certificate2> trusted = [];
        if (c.VerifyServer)
        {
            var (roots, name) = c.TrustKubeconfig is { } kc
                ? (KubeconfigCa(kc), $"the certificate-authority-data of {kc}")
                : c.TrustBundlePem is { } pem
                ? (PemBundle.ParseNonEmpty(pem, "the caBundle").Certificates, "the caBundle")
                : (Bundle(c.TrustBundleFile ?? throw new InvalidOperationException("An edge that verifies its server needs a trust bundle or kubeconfig.")), c.TrustBundleFile!);
            check = (cert, chain, errors, now) => ServerCertificateCheck.Check(roots, name, cert, chain, errors, now);
            trusted = roots;
        }
        X509Certificate2? client = null;
        if (c.ClientKubeconfig is { } ckc)
        {
            var user = ParseKubeconfig(ckc).CurrentUser ?? throw new InvalidDataException($"{ckc} has no current user.");
            if (user.ClientCertificateData is null || user.ClientKeyData is null)
                throw new InvalidDataException($"{ckc} embeds no client certificate and key for user {user.Name}.");
            client = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(user.ClientCertificateData), Encoding.ASCII.GetString(user.ClientKeyData));
        }
        else if (c.ClientCertificateFile is { } certFile)
        {
            try
            {
                client = X509Certificate2.CreateFromPemFile(certFile, c.ClientKeyFile ?? certFile);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                throw new InvalidDataException($"Cannot load the client certificate {certFile} with key {c.ClientKeyFile ?? certFile}: {e.Message}", e);
            }
        }
        var token = c.TokenFile is { } tf ? File.ReadAllText(tf).Trim() : null;
        return new EdgeMaterial(client, token, check, trusted);
    }

    private static Kubeconfig ParseKubeconfig(string path) => Kubeconfig.Parse(File.ReadAllBytes(path), path);

    private static IReadOnlyList<X509Certificate2> KubeconfigCa(string path)
    {
        var cluster = ParseKubeconfig(path).CurrentCluster ?? throw new InvalidDataException($"{path} has no current cluster.");
        if (cluster.CertificateAuthorityData is null) throw new InvalidDataException($"{path} embeds no certificate-authority-data for cluster {cluster.Name}.");
        return PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(cluster.CertificateAuthorityData), path + " (certificate-authority-data)").Certificates;
    }

    private static IReadOnlyList<X509Certificate2> Bundle(string path) => PemBundle.ParseNonEmpty(File.ReadAllText(path), path).Certificates;

    /// <summary>Size, write time and final target of every file; a missing file is part of the stamp too.</summary>
    private static string Stamp(EdgeCredentials credentials)
    {
        var sb = new StringBuilder();
        foreach (var path in credentials.Files)
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
            sb.Append(info.FullName).Append('|');
            if (info.Exists) sb.Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks);
            sb.Append(';');
        }
        return sb.ToString();
    }
}
