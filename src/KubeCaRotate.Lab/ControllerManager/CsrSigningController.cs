using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// csrsigning: signs approved requests for the kubelet client and API server client signers with the cluster signing
/// CA, read again for every signing. Validity is the shortest of --cluster-signing-duration, the request's
/// expirationSeconds (at least 10 minutes) and what is left of the CA's own validity; notBefore is backdated 5 minutes.
/// </summary>
public sealed class CsrSigningController(KubeconfigClient client, ClusterSigningAuthority authority, TimeSpan duration, TimeProvider time, TextWriter log)
{
    private static readonly string[] Signers = [KubeletCsr.KubeletClientSigner, KubeletCsr.ApiServerClientSigner];

    public async Task SyncAsync(IReadOnlyList<JsonObject> csrs, CancellationToken ct)
    {
        foreach (var csr in csrs)
        {
            if (!KubeletCsr.HasCondition(csr, "Approved") || KubeletCsr.HasCondition(csr, "Failed")
                || !string.IsNullOrEmpty(csr["status"]?["certificate"]?.GetValue<string>()))
                continue;
            var request = KubeletCsr.From(csr);
            if (!Signers.Contains(request.SignerName) || request.Request is null)
                continue;
            CertificateAuthority ca;
            try
            {
                ca = authority.Current();
            }
            catch (Exception e) when (e is InvalidOperationException or PkiException)
            {
                log.WriteLine($"{time.GetUtcNow():O} csrsigning: cannot sign {request.Name}: {e.Message}");
                continue;
            }
            var certificate = Sign(request, ca);
            var signed = (JsonObject)csr.DeepClone();
            signed["status"] ??= new JsonObject();
            signed["status"]!["certificate"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n"));
            try
            {
                await client.ReplaceAsync($"/apis/certificates.k8s.io/v1/certificatesigningrequests/{request.Name}/status", signed, ct).ConfigureAwait(false);
                log.WriteLine($"{time.GetUtcNow():O} csrsigning: signed {request.Name} ({request.CommonName}) with {ca.Certificate.Subject} until {certificate.NotAfter.ToUniversalTime():O}");
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound)
            {
            }
        }
    }

    private System.Security.Cryptography.X509Certificates.X509Certificate2 Sign(KubeletCsr request, CertificateAuthority ca)
    {
        var validity = duration;
        if (request.ExpirationSeconds is { } seconds)
            validity = TimeSpan.FromSeconds(Math.Max(600, seconds)) < validity ? TimeSpan.FromSeconds(Math.Max(600, seconds)) : validity;
        var left = new DateTimeOffset(ca.Certificate.NotAfter.ToUniversalTime()) - time.GetUtcNow();
        if (left < validity)
            validity = left;
        var usages = request.Usages.Contains("client auth") ? new[] { ExtendedKeyUsage.ClientAuth } : [];
        var template = CertificateTemplate.ForLeaf(request.CommonName, request.Organizations, usages, SubjectAltNames.None);
        using var key = KubeletCsr.PublicKey(request.Request!);
        return new CertificateIssuer(time).Sign(template, key, ca, validity);
    }
}
