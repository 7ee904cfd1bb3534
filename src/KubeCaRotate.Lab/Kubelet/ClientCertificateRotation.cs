using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The kubelet's certificate manager for its client certificate (rotateCertificates): a new key, a CSR for
/// CN=system:node:NODE, O=system:nodes with signer kubernetes.io/kube-apiserver-client-kubelet, posted with the
/// current certificate; when the signer has put status.certificate, the dated PEM and the -current link are
/// written and the caller swaps the identity in. Renewal is due past 80% of the certificate's lifetime (client-go
/// jitters between 70 and 90%).
/// </summary>
public sealed class ClientCertificateRotation(string nodeName, ApiServerConnection api, KubeletClientCertificateStore store, TextWriter log, TimeProvider time)
{
    public const string SignerName = "kubernetes.io/kube-apiserver-client-kubelet";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static bool IsDue(X509Certificate2 certificate, DateTimeOffset now)
    {
        var lifetime = certificate.NotAfter.ToUniversalTime() - certificate.NotBefore.ToUniversalTime();
        return now.UtcDateTime >= certificate.NotBefore.ToUniversalTime() + lifetime * 0.8;
    }

    /// <summary>Requests, waits for and installs a new client certificate; returns it with its key and the dated node path.</summary>
    public async Task<(X509Certificate2 Certificate, string DatedPath)> RenewAsync(CancellationToken ct)
    {
        using var key = PrivateKey.Generate(api.Identity.GetECDsaPublicKey() is not null ? KeyAlgorithm.EcdsaP256 : KeyAlgorithm.Rsa2048);
        var subject = new X500DistinguishedName($"CN=system:node:{nodeName}, O=system:nodes");
        var request = key.Key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new InvalidOperationException($"The kubelet of {nodeName} cannot make a CSR with a {key.Algorithm} key."),
        };
        var csrPem = request.CreateSigningRequestPem();
        var usages = new JsonArray("digital signature", "client auth");
        if (key.Key is RSA) usages.Add("key encipherment");
        var body = new JsonObject
        {
            ["apiVersion"] = "certificates.k8s.io/v1",
            ["kind"] = "CertificateSigningRequest",
            ["metadata"] = new JsonObject { ["generateName"] = "csr-" },
            ["spec"] = new JsonObject
            {
                ["request"] = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(csrPem)),
                ["signerName"] = SignerName,
                ["usages"] = usages,
            },
        };
        var created = await api.PostAsync("apis/certificates.k8s.io/v1/certificatesigningrequests", body, ct).ConfigureAwait(false);
        if (!created.Ok)
            throw new InvalidOperationException($"The kubelet of {nodeName} could not create its CSR: {created.Describe()}.");
        var name = created.Body?["metadata"]?["name"]?.GetValue<string>() ?? throw new InvalidOperationException("The API server returned a CSR without a name.");
        log.WriteLine($"{time.GetUtcNow():O} client certificate: created CSR {name}; waiting for {SignerName} to issue it");
        while (true)
        {
            await Task.Delay(PollInterval, time, ct).ConfigureAwait(false);
            ApiReply reply;
            try
            {
                reply = await api.GetAsync($"apis/certificates.k8s.io/v1/certificatesigningrequests/{name}", ct).ConfigureAwait(false);
            }
            catch (HttpRequestException)
            {
                continue; // the API server is restarting: keep waiting, as the certificate manager does
            }
            if (!reply.Ok) continue;
            var status = reply.Body?["status"];
            foreach (var condition in status?["conditions"]?.AsArray() ?? [])
            {
                var type = condition?["type"]?.GetValue<string>();
                if (type is "Denied" or "Failed")
                    throw new InvalidOperationException($"CSR {name} of the kubelet of {nodeName} was {type.ToLowerInvariant()}: {condition?["message"]?.GetValue<string>() ?? "no reason given"}.");
            }
            if (status?["certificate"]?.GetValue<string>() is not { Length: > 0 } issued) continue;
            var certificatePem = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(issued));
            var keyPem = key.ToPem();
            var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            var dated = await store.InstallAsync(certificatePem, keyPem, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} client certificate: CSR {name} issued serial {certificate.SerialNumber} (until {certificate.NotAfter.ToUniversalTime():O}); wrote {dated}");
            return (certificate, dated);
        }
    }
}
