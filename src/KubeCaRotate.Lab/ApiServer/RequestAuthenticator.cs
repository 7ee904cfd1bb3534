using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// kube-apiserver's authenticator chain, in its order: the front-proxy request headers (a client certificate
/// from --requestheader-client-ca-file whose CN is allowed), then the client certificate (user = CN, groups = O),
/// then a service-account bearer token. Null when nothing authenticates the request.
/// </summary>
internal sealed class RequestAuthenticator(ApiServerOptions options, ClientCertificateVerifier certificates, ServiceAccountTokenAuthenticator tokens)
{
    public AuthenticatedUser? Authenticate(HttpContext context)
    {
        var certificate = context.Connection.ClientCertificate;
        if (certificate is not null)
        {
            var trust = certificates.Verify(certificate);
            if (trust.HasFlag(ClientCertificateTrust.RequestHeaderCa) && FromRequestHeaders(context, certificate) is { } proxied)
                return proxied;
            if (trust.HasFlag(ClientCertificateTrust.ClientCa))
                return FromCertificate(certificate);
        }
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return tokens.Authenticate(authorization["Bearer ".Length..].Trim());
        return null;
    }

    private static AuthenticatedUser FromCertificate(X509Certificate2 certificate)
    {
        var cn = "";
        var groups = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            var oid = rdn.GetSingleElementType().Value;
            var value = rdn.GetSingleElementValue() ?? "";
            if (oid == "2.5.4.3")
                cn = value;
            else if (oid == "2.5.4.10")
                groups.Add(value);
        }
        groups.Add("system:authenticated");
        return new AuthenticatedUser(cn, groups, "x509");
    }

    private AuthenticatedUser? FromRequestHeaders(HttpContext context, X509Certificate2 certificate)
    {
        var cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (options.RequestHeaderAllowedNames.Count > 0 && !options.RequestHeaderAllowedNames.Contains(cn))
            return null;
        var user = options.RequestHeaderUsernameHeaders
            .Select(h => context.Request.Headers[h].ToString())
            .FirstOrDefault(v => !string.IsNullOrEmpty(v));
        if (user is null)
            return null;
        var groups = options.RequestHeaderGroupHeaders
            .SelectMany(h => context.Request.Headers[h].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            .Append("system:authenticated")
            .ToList();
        return new AuthenticatedUser(user, groups, "requestheader");
    }
}
