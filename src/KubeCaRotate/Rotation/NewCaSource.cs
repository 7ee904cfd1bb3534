using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>Where the new certificate of one CA comes from.</summary>
public abstract record NewCaSource
{
    /// <summary>A fresh key pair of <paramref name="Algorithm"/> (null: the old CA's algorithm) and a self-signed certificate, as kubeadm makes one.</summary>
    public sealed record Generate(KeyAlgorithm? Algorithm = null) : NewCaSource;

    /// <summary>The operator's own CA (e.g. an intermediate of the organisation's root), PEM text with the file names for messages.</summary>
    public sealed record BringYourOwn(string CertificatePem, string CertificateSource, string KeyPem, string KeySource) : NewCaSource;

    /// <summary>--mode renew: the old CA's key pair and subject with a new validity.</summary>
    public sealed record Renew : NewCaSource;
}

/// <summary>What to rotate for one CA: where the new CA comes from, how long it is valid, and whether to cross-sign it by the old one.</summary>
public sealed record CaRotationRequest(CaKind Ca, NewCaSource Source, bool CrossSign = false)
{
    /// <summary>caCertificateValidityPeriod for a generated or renewed CA (kubeadm's default 10 years).</summary>
    public TimeSpan CaValidity { get; init; } = TimeSpan.FromHours(87600);

    /// <summary>certificateValidityPeriod: the new CA must outlive leaves issued now for this long (kubeadm's default 1 year).</summary>
    public TimeSpan LeafValidity { get; init; } = TimeSpan.FromHours(8760);
}
