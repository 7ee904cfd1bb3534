using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Trust;

/// <summary>Why a presented certificate is or is not accepted.</summary>
public enum ChainFailure
{
    None,
    NothingPresented,
    NothingTrusted,
    UntrustedIssuer,
    LeafExpired,
    LeafNotYetValid,
    CaNotTimeValid,
    WrongUsage,
    NameMismatch,
    Other,
}

/// <summary>The outcome of verifying a presented chain against a trust bundle; <see cref="Detail"/> is a clause for a sentence.</summary>
public sealed record ChainVerdict(ChainFailure Failure, string? Detail, X509Certificate2? Anchor)
{
    public bool Ok => Failure == ChainFailure.None;

    public static ChainVerdict Accepted(X509Certificate2? anchor) => new(ChainFailure.None, null, anchor);
}
