using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Waits for the controller-manager to publish its --root-ca-file: ca.crt of the ConfigMap kube-root-ca.crt in every
/// namespace (that is not being deleted) and of every kubernetes.io/service-account-token Secret must hold exactly the
/// expected certificates, compared as a set of SHA-256 fingerprints. Lists are paged and narrowed by field selectors
/// (metadata.name, type), so a cluster of thousands of namespaces costs a few pages per look. Of a Secret nothing but
/// the fingerprints of its ca.crt is ever put in a message.
/// </summary>
public sealed class ClusterRootCaWatch(RotationApiConnection connection, TimeProvider time, TimeSpan? timeout = null) : IRootCaWatch
{
    public const string RootCaConfigMap = "kube-root-ca.crt";
    public const string TokenSecretType = "kubernetes.io/service-account-token";
    public const string CaKey = "ca.crt";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);
    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    public async Task WaitPublishedAsync(IReadOnlyList<X509Certificate2> expected, CancellationToken ct)
    {
        var want = Fingerprints(expected);
        await ClusterWait.UntilAsync(time, time.GetUtcNow() + _timeout, async c =>
            {
                var lagging = await LaggingAsync(want, c).ConfigureAwait(false);
                return lagging.Count switch
                {
                    0 => null,
                    1 => lagging[0],
                    _ => $"{lagging[0]} (and {lagging.Count - 1} more objects lag)",
                };
            },
            seen => new RotationException(
                $"The controller-manager did not publish {Describe(want)} as the cluster's root CA within {ApiTime.Duration(_timeout)}: {seen}; " +
                "check that every kube-controller-manager runs with the --root-ca-file of this phase and look at its log (root-ca-cert-publisher, tokens controller), then run again."), ct).ConfigureAwait(false);
    }

    /// <summary>One sentence part per object whose ca.crt is not the expected set, namespaces' missing ConfigMaps included.</summary>
    private async Task<IReadOnlyList<string>> LaggingAsync(IReadOnlySet<string> want, CancellationToken ct)
    {
        var namespaces = await connection.CallAsync((api, t) => api.ListNamespacesAsync(t), ct).ConfigureAwait(false);
        var configMaps = await connection.CallAsync((api, t) => api.ListAllAsync($"list the ConfigMaps {RootCaConfigMap} in all namespaces", async (c, limit, t2) =>
        {
            var l = await api.Client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: $"metadata.name={RootCaConfigMap}", continueParameter: c, limit: limit, cancellationToken: t2).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, t), ct).ConfigureAwait(false);
        var secrets = await connection.CallAsync((api, t) => api.ListAllAsync($"list the {TokenSecretType} Secrets in all namespaces", async (c, limit, t2) =>
        {
            var l = await api.Client.CoreV1.ListSecretForAllNamespacesAsync(fieldSelector: $"type={TokenSecretType}", continueParameter: c, limit: limit, cancellationToken: t2).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, t), ct).ConfigureAwait(false);

        var lagging = new List<string>();
        var published = configMaps.Where(m => m.Name() == RootCaConfigMap).ToDictionary(m => m.Namespace(), StringComparer.Ordinal);
        foreach (var ns in namespaces.Where(n => n.Status?.Phase != "Terminating" && n.Metadata?.DeletionTimestamp is null).Select(n => n.Name()).Order(StringComparer.Ordinal))
        {
            if (!published.TryGetValue(ns, out var map))
            {
                lagging.Add($"namespace {ns} has no ConfigMap {RootCaConfigMap}");
                continue;
            }
            var pem = map.Data?.TryGetValue(CaKey, out var text) == true ? text : null;
            if (Judge($"ConfigMap {ns}/{RootCaConfigMap}", pem, want) is { } lag) lagging.Add(lag);
        }
        foreach (var secret in secrets.Where(s => s.Type == TokenSecretType).OrderBy(s => s.Namespace(), StringComparer.Ordinal).ThenBy(s => s.Name(), StringComparer.Ordinal))
        {
            var pem = secret.Data?.TryGetValue(CaKey, out var bytes) == true ? Encoding.UTF8.GetString(bytes) : null;
            if (Judge($"Secret {secret.Namespace()}/{secret.Name()}", pem, want) is { } lag) lagging.Add(lag);
        }
        return lagging;
    }

    /// <summary>Null when <paramref name="pem"/> holds exactly <paramref name="want"/>; otherwise what it holds instead.</summary>
    private static string? Judge(string what, string? pem, IReadOnlySet<string> want)
    {
        if (string.IsNullOrWhiteSpace(pem)) return $"{what} has no {CaKey}";
        PemBundle bundle;
        try
        {
            bundle = PemBundle.Parse(pem, $"{CaKey} of {what}");
        }
        catch (PkiException)
        {
            return $"{what} has a {CaKey} that is not PEM certificates";
        }
        var have = Fingerprints(bundle.Certificates);
        return have.SetEquals(want) ? null : $"{what} holds {Describe(have)} in {CaKey} instead of {Describe(want)}";
    }

    private static HashSet<string> Fingerprints(IEnumerable<X509Certificate2> certificates) =>
        certificates.Select(c => Convert.ToHexStringLower(c.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256))).ToHashSet(StringComparer.Ordinal);

    private static string Describe(IReadOnlySet<string> fingerprints) =>
        fingerprints.Count == 0 ? "no certificate" : string.Join(" + ", fingerprints.Order(StringComparer.Ordinal).Select(f => $"sha256 {f[..16]}…"));
}
