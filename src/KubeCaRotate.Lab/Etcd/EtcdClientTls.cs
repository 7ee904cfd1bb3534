using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Lab.Tls;

namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// The client side of the mTLS connection to etcd, loaded once: like kube-apiserver, the trust pool and the client
/// certificate are read when the store is built and never re-read, so changing the files on disk has no effect until
/// the API server restarts. Trust is exactly the certificates in the CA bundle (no system roots).
/// </summary>
internal sealed class EtcdClientTls
{
    private EtcdClientTls(string caFile, X509Certificate2Collection trust, X509Certificate2 clientCertificate)
    {
        CaFile = caFile;
        Trust = trust;
        ClientCertificate = clientCertificate;
    }

    public string CaFile { get; }

    public X509Certificate2Collection Trust { get; }

    public X509Certificate2 ClientCertificate { get; }

    public static EtcdClientTls Load(string caFile, string certFile, string keyFile)
    {
        var trust = new X509Certificate2Collection();
        try
        {
            trust.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidDataException($"Cannot read the etcd CA bundle {caFile}: {e.Message}", e);
        }
        if (trust.Count == 0)
        {
            throw new InvalidDataException($"The etcd CA bundle {caFile} holds no PEM certificate; point --etcd-cafile at the etcd CA certificate.");
        }

        X509Certificate2 client;
        try
        {
            // Accepts "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC1) and "PRIVATE KEY" (PKCS#8).
            client = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"Cannot load the etcd client certificate {certFile} with key {keyFile}: {e.Message}", e);
        }
        return new EtcdClientTls(caFile, trust, client);
    }

    /// <summary>
    /// Checks the member's serving certificate the way Go's crypto/tls does for etcd's client: a chain to one of the
    /// bundle's certificates through the certificates the member sent after its leaf, server-auth usage, and the URL's host among the SANs. Returns null when trusted, or
    /// the reason it is not, phrased to follow "its serving certificate ...".
    /// </summary>
    public string? CheckServerCertificate(X509Certificate? certificate, X509Chain? presentedChain, SslPolicyErrors errors, DateTimeOffset now)
    {
        if (certificate is null) return "was not presented";
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        foreach (var sent in SentIntermediates.Of(leaf, presentedChain)) chain.ChainPolicy.ExtraStore.Add(sent);
        if (!chain.Build(leaf))
        {
            var statuses = chain.ChainStatus.Select(s => s.Status).ToHashSet();
            if (statuses.Contains(X509ChainStatusFlags.NotTimeValid))
            {
                return $"is outside its validity period ({leaf.NotBefore:u} to {leaf.NotAfter:u})";
            }
            if (statuses.Contains(X509ChainStatusFlags.NotValidForUsage))
            {
                return "is not valid for server authentication";
            }
            if (statuses.Contains(X509ChainStatusFlags.UntrustedRoot) || statuses.Contains(X509ChainStatusFlags.PartialChain))
            {
                return $"(issuer \"{leaf.Issuer}\") is not signed by a CA in {CaFile}";
            }
            return $"failed verification against {CaFile}: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return "does not name the host we connected to in its subject alternative names";
        }
        return null;
    }
}
