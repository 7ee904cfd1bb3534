namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// One etcd member to run: its command-line flags (as in the node's etcd.yaml, host paths already mapped into the
/// node root), where its output goes, and its pid file.
/// </summary>
public sealed record EtcdMemberSpec(IReadOnlyList<string> Arguments, string LogFile, string PidFile)
{
    /// <summary>The etcd binary; a bare name is looked up on the PATH.</summary>
    public string Binary { get; init; } = "etcd";

    /// <summary>
    /// Where the member answers health probes: the first http URL of <c>--listen-metrics-urls</c>, as kubeadm's probes
    /// use (plain HTTP, no certificates). A wildcard host is probed on loopback.
    /// </summary>
    public Uri HealthUri => HealthUriFrom(Arguments);

    public static Uri HealthUriFrom(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        for (var i = 0; i < arguments.Count; i++)
        {
            string? value = null;
            if (arguments[i].StartsWith("--listen-metrics-urls=", StringComparison.Ordinal)) value = arguments[i][(arguments[i].IndexOf('=') + 1)..];
            else if (arguments[i] == "--listen-metrics-urls" && i + 1 < arguments.Count) value = arguments[i + 1];
            if (value is null) continue;
            foreach (var url in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp)
                {
                    var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
                    return new UriBuilder(Uri.UriSchemeHttp, host, uri.Port, "/health").Uri;
                }
            }
        }
        throw new ArgumentException("The etcd flags have no --listen-metrics-urls with an http:// URL; add one (kubeadm uses http://127.0.0.1:2381) so the member's health can be probed.", nameof(arguments));
    }
}
