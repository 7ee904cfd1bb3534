using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Verifies service-account bearer tokens (JWS, RS256 or ES256) against the public keys of
/// --service-account-key-file, read once at start as kube-apiserver does. Bound tokens must carry one of the
/// --service-account-issuer values and an accepted audience; legacy Secret-based tokens carry the issuer
/// "kubernetes/serviceaccount". The stand-in does not look the service account up.
/// </summary>
internal sealed class ServiceAccountTokenAuthenticator
{
    private const string LegacyIssuer = "kubernetes/serviceaccount";
    private readonly List<AsymmetricAlgorithm> _keys = [];
    private readonly IReadOnlyList<string> _issuers;
    private readonly IReadOnlyList<string> _audiences;
    private readonly TimeProvider _time;

    public ServiceAccountTokenAuthenticator(IReadOnlyList<string> keyFiles, IReadOnlyList<string> issuers, IReadOnlyList<string> audiences, TimeProvider time)
    {
        _issuers = issuers;
        _audiences = audiences.Count > 0 ? audiences : issuers.Take(1).ToList();
        _time = time;
        foreach (var file in keyFiles)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"The service-account key file {file} cannot be read ({e.Message}); check --service-account-key-file.", e);
            }
            var before = _keys.Count;
            ReadKeys(text);
            if (_keys.Count == before)
                throw new InvalidOperationException($"The service-account key file {file} holds no public key, private key or certificate; check --service-account-key-file.");
        }
    }

    public int KeyCount => _keys.Count;

    /// <summary>The user the token names, or null when it is not a valid service-account token for this server.</summary>
    public AuthenticatedUser? Authenticate(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
            return null;
        JsonObject header, claims;
        byte[] signature;
        try
        {
            header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject();
            claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            return null;
        }
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var alg = (string?)header["alg"];
        if (!_keys.Any(k => Verifies(k, alg, signed, signature)))
            return null;

        var issuer = (string?)claims["iss"];
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (claims["exp"] is JsonValue exp && exp.GetValue<long>() < now)
            return null;
        if (claims["nbf"] is JsonValue nbf && nbf.GetValue<long>() > now + 60)
            return null;
        string? ns, name;
        if (issuer == LegacyIssuer)
        {
            ns = (string?)claims["kubernetes.io/serviceaccount/namespace"];
            name = (string?)claims["kubernetes.io/serviceaccount/service-account.name"];
        }
        else
        {
            if (issuer is null || !_issuers.Contains(issuer))
                return null;
            var audiences = claims["aud"] switch
            {
                JsonArray a => a.Select(x => (string?)x).ToList(),
                JsonValue v => [(string?)v],
                _ => [],
            };
            if (_audiences.Count > 0 && !audiences.Any(a => a is not null && _audiences.Contains(a)))
                return null;
            ns = (string?)claims["kubernetes.io"]?["namespace"];
            name = (string?)claims["kubernetes.io"]?["serviceaccount"]?["name"];
            if (ns is null || name is null)
            {
                var sub = ((string?)claims["sub"])?.Split(':');
                if (sub is ["system", "serviceaccount", var n, var s])
                    (ns, name) = (n, s);
            }
        }
        if (string.IsNullOrEmpty(ns) || string.IsNullOrEmpty(name))
            return null;
        return new AuthenticatedUser($"system:serviceaccount:{ns}:{name}",
            ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"], "service-account-token");
    }

    private static bool Verifies(AsymmetricAlgorithm key, string? alg, byte[] data, byte[] signature)
    {
        try
        {
            return (alg, key) switch
            {
                ("RS256", RSA rsa) => rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                ("ES256", ECDsa ec) when ec.KeySize == 256 => ec.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private void ReadKeys(string text)
    {
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var pem = rest[fields.Location].ToString();
            rest = rest[fields.Location.End.Value..];
            try
            {
                switch (label)
                {
                    case "CERTIFICATE":
                        var cert = X509Certificate2.CreateFromPem(pem);
                        _keys.Add((AsymmetricAlgorithm?)cert.GetRSAPublicKey() ?? cert.GetECDsaPublicKey() ?? throw new CryptographicException());
                        break;
                    case "RSA PUBLIC KEY" or "RSA PRIVATE KEY":
                        var rsa = RSA.Create();
                        rsa.ImportFromPem(pem);
                        _keys.Add(rsa);
                        break;
                    case "EC PRIVATE KEY":
                        var ec = ECDsa.Create();
                        ec.ImportFromPem(pem);
                        _keys.Add(ec);
                        break;
                    case "PUBLIC KEY" or "PRIVATE KEY":
                        _keys.Add(ImportEither(pem));
                        break;
                }
            }
            catch (CryptographicException)
            {
                // not a key type the API server verifies tokens with; skip it like kube-apiserver skips unknown blocks
            }
        }
    }

    private static AsymmetricAlgorithm ImportEither(string pem)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (CryptographicException)
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return ec;
        }
    }
}
