using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// What an aggregated API server learns from kube-system/extension-apiserver-authentication at its start (and keeps):
/// the front-proxy CA (requestheader-client-ca-file), the client CNs allowed to act as front proxy, and the headers
/// that carry the user and groups. A request is authenticated only when its client certificate chains to that CA for
/// client auth and its CN is allowed (any CN when the list is empty), and it names a user.
/// </summary>
public sealed record FrontProxyTrust(IReadOnlyList<X509Certificate2> RequestHeaderCa, IReadOnlyList<string> AllowedNames, IReadOnlyList<string> UsernameHeaders, IReadOnlyList<string> GroupHeaders)
{
    public static FrontProxyTrust FromConfigMap(JsonObject configMap)
    {
        var data = configMap["data"] as JsonObject ?? new JsonObject();
        var pem = data["requestheader-client-ca-file"]?.GetValue<string>()
            ?? throw new InvalidOperationException("kube-system/extension-apiserver-authentication has no requestheader-client-ca-file; the API servers publish it when they run with --requestheader-client-ca-file.");
        return new FrontProxyTrust(
            PemBundle.ParseNonEmpty(pem, "extension-apiserver-authentication requestheader-client-ca-file").Certificates,
            List(data, "requestheader-allowed-names"),
            List(data, "requestheader-username-headers") is { Count: > 0 } u ? u : ["X-Remote-User"],
            List(data, "requestheader-group-headers") is { Count: > 0 } g ? g : ["X-Remote-Group"]);
    }

    private static List<string> List(JsonObject data, string key)
    {
        var text = data[key]?.GetValue<string>();
        if (string.IsNullOrEmpty(text))
            return [];
        try
        {
            return JsonSerializer.Deserialize<List<string>>(text) ?? [];
        }
        catch (JsonException)
        {
            return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
    }

    /// <summary>Null with the reason when refused; the user and groups when the request came through a trusted front proxy.</summary>
    public (string? User, IReadOnlyList<string> Groups, string? Refusal) Authenticate(X509Certificate2? clientCertificate, Func<string, IReadOnlyList<string>> header, DateTimeOffset now)
    {
        if (clientCertificate is null)
            return (null, [], "no client certificate");
        var chain = CertificateFacts.BuildChain(clientCertificate, RequestHeaderCa, now);
        if (!chain.Ok)
            return (null, [], $"client certificate {clientCertificate.Subject} does not chain to the requestheader CA: {chain.Problem}");
        if (!CertificateFacts.ExtendedKeyUsages(clientCertificate).Contains(ExtendedKeyUsages.Describe(ExtendedKeyUsages.ClientAuthOid)))
            return (null, [], $"client certificate {clientCertificate.Subject} is not for client auth");
        var cn = CertificateFacts.CommonName(clientCertificate);
        if (AllowedNames.Count > 0 && !AllowedNames.Contains(cn))
            return (null, [], $"client certificate CN {cn} is not in requestheader-allowed-names");
        var user = UsernameHeaders.SelectMany(header).FirstOrDefault(v => v.Length > 0);
        if (user is null)
            return (null, [], "no user in the request headers");
        var groups = GroupHeaders.SelectMany(header).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        return (user, groups, null);
    }
}
