using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Pki;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The TokenRequest API (POST .../serviceaccounts/NAME/token), served only when --service-account-signing-key-file is
/// given, whose key is read once at start as kube-apiserver does. The token is signed with that key, issued by the first
/// --service-account-issuer, for the requested audiences or else the API server's own (--api-audiences, defaulting to
/// the first issuer), and bound to the pod or secret named in boundObjectRef, which must exist with that uid and, for a pod,
/// run as that service account. A node may only ask for pods bound to it (the node authorizer). A kubelet's request for
/// 3607 s is extended to a year with a warnafter, as --service-account-extend-token-expiration does.
/// </summary>
internal sealed class TokenRequestEndpoint(ApiServerOptions options, ObjectRegistry registry, TimeProvider time)
{
    private const long KubeletExpirationSeconds = 3607;
    private const long ExtendedExpirationSeconds = 365L * 24 * 3600;
    private static readonly ApiResource ServiceAccounts = ApiResourceCatalog.Find("", "v1", "serviceaccounts")!;
    private static readonly ApiResource Pods = ApiResourceCatalog.Find("", "v1", "pods")!;
    private static readonly ApiResource Secrets = ApiResourceCatalog.Find("", "v1", "secrets")!;
    private static readonly ApiResource Nodes = ApiResourceCatalog.Find("", "v1", "nodes")!;
    private readonly PrivateKey? _key = Load(options.ServiceAccountSigningKeyFile);

    private static PrivateKey? Load(string? path)
    {
        if (path is null) return null;
        try
        {
            return PrivateKey.FromPem(File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PkiException)
        {
            throw new InvalidOperationException($"The service-account signing key {path} cannot be used ({e.Message}); check --service-account-signing-key-file.", e);
        }
    }

    public async Task CreateAsync(HttpContext context, JsonObject request, string ns, string serviceAccount, AuthenticatedUser? user, CancellationToken ct)
    {
        if (_key is null || options.ServiceAccountIssuers.Count == 0)
            throw ApiStatusException.NotFoundPath();
        var sa = (await registry.GetAsync(ServiceAccounts, ns, serviceAccount, ct)).Object;
        var spec = request["spec"] as JsonObject ?? new JsonObject();
        var audiences = (spec["audiences"] as JsonArray ?? []).Select(KubeJson.Str).OfType<string>().Where(a => a.Length > 0).ToList();
        if (audiences.Count == 0)
            audiences = [.. options.ApiAudiences.Count > 0 ? options.ApiAudiences : options.ServiceAccountIssuers.Take(1)];
        var requested = spec["expirationSeconds"] is JsonValue e && e.TryGetValue<long>(out var seconds) ? seconds : 3600;
        if (requested < 600)
            throw ApiStatusException.Invalid(ServiceAccounts, serviceAccount, "spec.expirationSeconds", "may not specify a duration less than 10 minutes");

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var scoped = new JsonObject
        {
            ["namespace"] = ns,
            ["serviceaccount"] = new JsonObject { ["name"] = serviceAccount, ["uid"] = KubeJson.Str(sa["metadata"]?["uid"]) ?? "" },
        };
        var bound = spec["boundObjectRef"] as JsonObject;
        if (bound is not null)
        {
            var kind = KubeJson.Str(bound["kind"]) ?? "";
            var name = KubeJson.Str(bound["name"]) ?? "";
            var uid = KubeJson.Str(bound["uid"]);
            var resource = kind switch
            {
                "Pod" => Pods,
                "Secret" => Secrets,
                _ => throw ApiStatusException.BadRequest($"cannot bind token to object of type {kind}; only Pod and Secret are supported"),
            };
            var target = (await registry.GetAsync(resource, ns, name, ct)).Object;
            var actualUid = KubeJson.Str(target["metadata"]?["uid"]);
            if (uid is { Length: > 0 } && uid != actualUid)
                throw new ApiStatusException(409, "Conflict", $"the UID in the bound object reference ({uid}) does not match the UID in record ({actualUid}); the object might have been deleted and then recreated");
            scoped[kind == "Pod" ? "pod" : "secret"] = new JsonObject { ["name"] = name, ["uid"] = actualUid };
            if (kind == "Pod")
            {
                var podAccount = KubeJson.Str(target["spec"]?["serviceAccountName"]) ?? "default";
                if (podAccount != serviceAccount)
                    throw ApiStatusException.BadRequest($"cannot bind token for serviceaccount \"{serviceAccount}\" to pod running with serviceaccount \"{podAccount}\"");
                var nodeName = KubeJson.Str(target["spec"]?["nodeName"]);
                if (user is not null && user.Name.StartsWith("system:node:", StringComparison.Ordinal) && user.Name["system:node:".Length..] != nodeName)
                    throw new ApiStatusException(403, "Forbidden", $"User \"{user.Name}\" cannot create resource \"serviceaccounts/token\" for pod {ns}/{name}: the pod is not bound to this node");
                if (nodeName is { Length: > 0 })
                {
                    string? nodeUid = null;
                    try
                    {
                        nodeUid = KubeJson.Str((await registry.GetAsync(Nodes, null, nodeName, ct)).Object["metadata"]?["uid"]);
                    }
                    catch (ApiStatusException n) when (n.Code == 404)
                    {
                    }
                    scoped["node"] = new JsonObject { ["name"] = nodeName, ["uid"] = nodeUid ?? "" };
                }
            }
        }
        else if (user is not null && user.Name.StartsWith("system:node:", StringComparison.Ordinal))
        {
            throw new ApiStatusException(403, "Forbidden", $"User \"{user.Name}\" cannot create resource \"serviceaccounts/token\": a node may only request tokens bound to its pods");
        }

        var lifetime = requested;
        if (options.ServiceAccountExtendTokenExpiration && bound is not null && KubeJson.Str(bound["kind"]) == "Pod" && requested == KubeletExpirationSeconds)
        {
            lifetime = Math.Max(requested, ExtendedExpirationSeconds);
            scoped["warnafter"] = now + requested;
        }
        var claims = new JsonObject
        {
            ["aud"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]),
            ["exp"] = now + lifetime,
            ["iat"] = now,
            ["iss"] = options.ServiceAccountIssuers[0],
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = scoped,
            ["nbf"] = now,
            ["sub"] = $"system:serviceaccount:{ns}:{serviceAccount}",
        };
        var token = ServiceAccountTokens.Sign(_key, claims);
        spec["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]);
        spec["expirationSeconds"] = requested;
        var answer = new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["name"] = serviceAccount, ["namespace"] = ns, ["creationTimestamp"] = KubeJson.Timestamp(time.GetUtcNow()) },
            ["spec"] = spec.DeepClone(),
            ["status"] = new JsonObject { ["token"] = token, ["expirationTimestamp"] = KubeJson.Timestamp(DateTimeOffset.FromUnixTimeSeconds(now + requested)) },
        };
        await RestResponses.WriteJsonAsync(context, 201, answer);
    }
}
