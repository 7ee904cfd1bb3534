using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Control;

/// <summary>
/// Signs service-account tokens with the service-account key as Kubernetes does: legacy tokens for
/// kubernetes.io/service-account-token Secrets (issuer "kubernetes/serviceaccount", the controller-manager's tokens
/// controller) and any claims set (bound tokens, the API server's TokenRequest). RS256 for RSA keys, ES256/ES384 for
/// ECDSA keys; the kid is the base64url SHA-256 of the public key, as kube-apiserver computes it.
/// </summary>
public static class ServiceAccountTokens
{
    public const string LegacyIssuer = "kubernetes/serviceaccount";

    public static string IssueLegacy(PrivateKey saKey, string ns, string serviceAccount, string serviceAccountUid, string secretName) =>
        Sign(saKey, new JsonObject
        {
            ["iss"] = LegacyIssuer,
            ["kubernetes.io/serviceaccount/namespace"] = ns,
            ["kubernetes.io/serviceaccount/secret.name"] = secretName,
            ["kubernetes.io/serviceaccount/service-account.name"] = serviceAccount,
            ["kubernetes.io/serviceaccount/service-account.uid"] = serviceAccountUid,
            ["sub"] = $"system:serviceaccount:{ns}:{serviceAccount}",
        });

    /// <summary>A compact JWS of <paramref name="claims"/> signed with <paramref name="key"/>.</summary>
    public static string Sign(PrivateKey key, JsonObject claims)
    {
        var (alg, sign) = key.Key switch
        {
            RSA rsa => ("RS256", (Func<byte[], byte[]>)(d => rsa.SignData(d, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))),
            ECDsa ec when ec.KeySize == 384 => ("ES384", d => ec.SignData(d, HashAlgorithmName.SHA384)),
            ECDsa ec => ("ES256", d => ec.SignData(d, HashAlgorithmName.SHA256)),
            _ => throw new PkiException("The service-account key must be an RSA or ECDSA key."),
        };
        var kid = Base64Url(SHA256.HashData(key.SubjectPublicKeyInfo()));
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = alg, ["kid"] = kid });
        var signingInput = Base64Url(header) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        return signingInput + "." + Base64Url(sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
