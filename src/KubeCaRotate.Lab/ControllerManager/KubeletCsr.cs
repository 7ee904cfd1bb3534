using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>A CertificateSigningRequest object with its PKCS#10 request decoded: what the approver and the signer look at.</summary>
public sealed record KubeletCsr(string Name, string SignerName, string Username, IReadOnlyList<string> Groups, IReadOnlyList<string> Usages,
    int? ExpirationSeconds, CertificateRequest? Request, string CommonName, IReadOnlyList<string> Organizations)
{
    public const string KubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet";
    public const string ApiServerClientSigner = "kubernetes.io/kube-apiserver-client";

    public static KubeletCsr From(JsonObject csr)
    {
        var spec = csr["spec"] as JsonObject ?? new JsonObject();
        CertificateRequest? request = null;
        string cn = "";
        var orgs = new List<string>();
        try
        {
            var pem = Encoding.ASCII.GetString(Convert.FromBase64String(spec["request"]?.GetValue<string>() ?? ""));
            request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256);
            foreach (var rdn in request.SubjectName.EnumerateRelativeDistinguishedNames())
            {
                var oid = rdn.GetSingleElementType().Value;
                var value = rdn.GetSingleElementValue() ?? "";
                if (oid == "2.5.4.3") cn = value;
                else if (oid == "2.5.4.10") orgs.Add(value);
            }
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            request = null;
        }
        return new KubeletCsr(
            csr["metadata"]?["name"]?.GetValue<string>() ?? "",
            spec["signerName"]?.GetValue<string>() ?? "",
            spec["username"]?.GetValue<string>() ?? "",
            (spec["groups"] as JsonArray ?? []).Select(g => g?.GetValue<string>() ?? "").ToList(),
            (spec["usages"] as JsonArray ?? []).Select(u => u?.GetValue<string>() ?? "").ToList(),
            spec["expirationSeconds"]?.GetValue<int>(),
            request, cn, orgs);
    }

    /// <summary>
    /// csrapproving's test for a kubelet client certificate: the kubelet signer, CN system:node:NAME, O exactly
    /// system:nodes, usages within digital signature / key encipherment / client auth and including client auth.
    /// </summary>
    public bool IsKubeletClientRequest =>
        SignerName == KubeletClientSigner && Request is not null
        && CommonName.StartsWith("system:node:", StringComparison.Ordinal) && CommonName.Length > "system:node:".Length
        && Organizations.SequenceEqual(["system:nodes"])
        && Usages.Contains("client auth")
        && Usages.All(u => u is "client auth" or "digital signature" or "key encipherment");

    /// <summary>Renewal by the node itself (selfnodeclient) or a first request by a bootstrapper (nodeclient).</summary>
    public bool RequestedByNodeOrBootstrapper =>
        Username == CommonName || Groups.Any(g => g == "system:bootstrappers" || g.StartsWith("system:bootstrappers:", StringComparison.Ordinal));

    public static bool HasCondition(JsonObject csr, string type) =>
        (csr["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == type);

    public static AsymmetricAlgorithm PublicKey(CertificateRequest request) =>
        (AsymmetricAlgorithm?)request.PublicKey.GetRSAPublicKey() ?? request.PublicKey.GetECDsaPublicKey()
        ?? throw new CryptographicException("the request's public key is neither RSA nor ECDSA");
}
