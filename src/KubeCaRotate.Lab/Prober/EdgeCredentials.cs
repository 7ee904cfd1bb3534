namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// Where the client of an edge takes what it presents and what it trusts, as host paths: the copy the component loaded
/// at its start (DIR/run/NODE/loaded/...) for what it reads only then, the node's current file for what it reloads.
/// </summary>
public sealed record EdgeCredentials
{
    /// <summary>A PEM bundle of the CAs the client trusts for the server's certificate.</summary>
    public string? TrustBundleFile { get; init; }

    /// <summary>The PEM the client trusts when it holds it in memory rather than in a file (an APIService's caBundle).</summary>
    public string? TrustBundlePem { get; init; }

    /// <summary>The name checked on the server's certificate (TLS server name) when it is not the URL's host, e.g. SERVICE.NAMESPACE.svc.</summary>
    public string? ServerName { get; init; }

    /// <summary>The user a front proxy vouches for in X-Remote-User (the API server's proxy to aggregated API servers).</summary>
    public string? ProxiedUser { get; init; }

    /// <summary>A kubeconfig whose current cluster's certificate-authority-data the client trusts.</summary>
    public string? TrustKubeconfig { get; init; }

    /// <summary>False when the client does not verify the server at all (the API server towards kubelets without --kubelet-certificate-authority).</summary>
    public bool VerifyServer { get; init; } = true;

    /// <summary>The client certificate (PEM); may also hold the key, as kubelet-client-current.pem does.</summary>
    public string? ClientCertificateFile { get; init; }

    public string? ClientKeyFile { get; init; }

    /// <summary>A kubeconfig whose current user's embedded client certificate and key the client presents.</summary>
    public string? ClientKubeconfig { get; init; }

    /// <summary>A file holding the bearer token the client sends (a pod's service-account token).</summary>
    public string? TokenFile { get; init; }

    /// <summary>Load trust and client certificate as the API server's etcd client does (<see cref="Etcd.EtcdClientTls"/>): the etcd edges.</summary>
    public bool AsEtcdClient { get; init; }

    /// <summary>Every file these credentials are read from.</summary>
    public IEnumerable<string> Files =>
        new[] { TrustBundleFile, TrustKubeconfig, ClientCertificateFile, ClientKeyFile, ClientKubeconfig, TokenFile }.OfType<string>();
}
