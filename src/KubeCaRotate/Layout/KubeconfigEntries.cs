namespace KubeCaRotate.Layout;

/// <summary>A cluster entry of a kubeconfig: where the API server is and which CA the client trusts.</summary>
public sealed record KubeconfigCluster(
    string Name,
    string? Server,
    byte[]? CertificateAuthorityData,
    string? CertificateAuthority,
    bool InsecureSkipTlsVerify);

/// <summary>A user entry of a kubeconfig: the client's credentials, embedded or as file paths.</summary>
public sealed record KubeconfigUser(
    string Name,
    byte[]? ClientCertificateData,
    byte[]? ClientKeyData,
    string? ClientCertificate,
    string? ClientKey,
    string? Token)
{
    // Never print a token or key.
    public override string ToString() =>
        $"KubeconfigUser {{ Name = {Name}, ClientCertificate = {ClientCertificate ?? (ClientCertificateData is null ? "none" : "embedded")}, " +
        $"ClientKey = {ClientKey ?? (ClientKeyData is null ? "none" : "embedded")}, Token = {(Token is null ? "none" : "set")} }}";
}

/// <summary>A context entry of a kubeconfig: which user talks to which cluster.</summary>
public sealed record KubeconfigContext(string Name, string? Cluster, string? User, string? Namespace);
