using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Control;

/// <summary>
/// Signs service-account tokens with sa.key as the controller-manager's tokens controller does for legacy
/// kubernetes.io/service-account-token Secrets (issuer "kubernetes/serviceaccount"): RS256 for RSA keys, ES256/ES384
/// for ECDSA keys.
/// </summary>
public static class ServiceAccountTokens
{
    public const string LegacyIssuer = "kubernetes/serviceaccount";

    public static string IssueLegacy(PrivateKey saKey, string ns, string serviceAccount, string serviceAccountUid, string secretName)
    {
        var (alg, sign) = saKey.Key switch
        {
            RSA rsa => ("RS256", (Func<byte[], byte[]>)(d => rsa.SignData(d, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))),
            ECDsa ec when ec.KeySize == 384 => ("ES384", d => ec.SignData(d, HashAlgorithmName.SHA384)),
            ECDsa ec => ("ES256", d => ec.SignData(d, HashAlgorithmName.SHA256)),
            _ => throw new PkiException("sa.key must be an RSA or ECDSA key."),
        };
        var kid = Base64Url(SHA256.HashData(saKey.SubjectPublicKeyInfo()));
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = alg, ["kid"] = kid });
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["iss"] = LegacyIssuer,
            ["kubernetes.io/serviceaccount/namespace"] = ns,
            ["kubernetes.io/serviceaccount/secret.name"] = secretName,
            ["kubernetes.io/serviceaccount/service-account.name"] = serviceAccount,
            ["kubernetes.io/serviceaccount/service-account.uid"] = serviceAccountUid,
            ["sub"] = $"system:serviceaccount:{ns}:{serviceAccount}",
        });
        var signingInput = Base64Url(header) + "." + Base64Url(claims);
        return signingInput + "." + Base64Url(sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
