namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// How an API server reaches etcd, as kube-apiserver's <c>--etcd-servers</c>, <c>--etcd-cafile</c>,
/// <c>--etcd-certfile</c> and <c>--etcd-keyfile</c> say it.
/// </summary>
public sealed record EtcdClientSettings(IReadOnlyList<Uri> Servers, string CaFile, string CertFile, string KeyFile)
{
    /// <summary>How long one request to one member may take before we try the next member.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a watch keeps trying to reconnect, across all members, before it gives up.</summary>
    public TimeSpan WatchReconnectWindow { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Builds the settings from the flag values; <paramref name="servers"/> is the comma list of <c>--etcd-servers</c>.</summary>
    public static EtcdClientSettings FromFlags(string servers, string caFile, string certFile, string keyFile)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var uris = new List<Uri>();
        foreach (var s in servers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(s, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw new ArgumentException($"--etcd-servers contains \"{s}\", which is not an http(s) URL; give a comma list such as https://127.0.0.1:2379.", nameof(servers));
            }
            uris.Add(uri);
        }
        if (uris.Count == 0)
        {
            throw new ArgumentException("--etcd-servers is empty; give at least one etcd client URL such as https://127.0.0.1:2379.", nameof(servers));
        }
        return new EtcdClientSettings(uris, caFile, certFile, keyFile);
    }
}
