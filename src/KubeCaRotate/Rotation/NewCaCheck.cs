using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The checks a new CA must pass before anything is staged, each failing with one sentence that names the file and
/// says what to do: it is a CA (basicConstraints CA:TRUE, keyUsage keyCertSign), its key matches, its algorithm is one
/// kubeadm supports, and it is valid now and for as long as the leaves it will sign (certificateValidityPeriod).
/// </summary>
public static class NewCaCheck
{
    public static void Validate(X509Certificate2 certificate, PrivateKey key, string certificateSource, string keySource, TimeSpan leafValidity, DateTimeOffset now)
    {
        var name = $"The new CA {certificateSource}";
        var basic = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basic is not { CertificateAuthority: true })
            throw new RotationException($"{name} is not a CA certificate (it lacks basicConstraints CA:TRUE); give a CA certificate, e.g. an intermediate issued for this cluster.");
        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
            throw new RotationException($"{name} may not sign certificates (its keyUsage lacks keyCertSign); issue it with keyUsage keyCertSign.");
        if (!key.Matches(certificate))
            throw new RotationException($"The key {keySource} does not belong to the new CA {certificateSource}; give the private key of that certificate.");
        _ = CertificateFacts.KeyType(certificate) is "RSA-2048" or "RSA-3072" or "RSA-4096" or "ECDSA-P256" or "ECDSA-P384"
            ? 0
            : throw new RotationException($"{name} has a {CertificateFacts.KeyType(certificate)} key, which kubeadm cannot use; use one of {string.Join(", ", KeyAlgorithms.KubeadmNames)}.");
        if (certificate.NotBefore.ToUniversalTime() > now.UtcDateTime)
            throw new RotationException($"{name} is not valid before {certificate.NotBefore.ToUniversalTime():u}; use a CA valid now, or check this machine's clock.");
        var needed = now + leafValidity;
        if (certificate.NotAfter.ToUniversalTime() < needed.UtcDateTime)
            throw new RotationException($"{name} expires on {certificate.NotAfter.ToUniversalTime():u}, before the leaves it will sign for {leafValidity.TotalHours:0}h would ({needed.UtcDateTime:u}); use a CA valid longer or shorten the leaf validity.");
    }
}
