using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// One change to a trust store (a set of accepted CAs), as data: add an accepted CA, set the store to a single CA,
/// or drop a CA. Applying it is pure and idempotent: applying it twice gives what applying it once gave, and a store
/// that already satisfies it comes back unchanged (the caller keeps the original bytes).
/// </summary>
public abstract record TrustStoreEdit(X509Certificate2 Ca)
{
    /// <summary>Trust <paramref name="ca"/> too; the CAs already trusted stay, in their order.</summary>
    public static TrustStoreEdit AddAccepted(X509Certificate2 ca) => new Add(ca);

    /// <summary>Trust <paramref name="ca"/> alone.</summary>
    public static TrustStoreEdit SetOnly(X509Certificate2 ca) => new Set(ca);

    /// <summary>Stop trusting <paramref name="ca"/>; dropping the last CA of a store is refused.</summary>
    public static TrustStoreEdit Drop(X509Certificate2 ca) => new Remove(ca);

    /// <summary>
    /// The store after the edit, or null when <paramref name="current"/> already satisfies it. <paramref name="source"/>
    /// names the store in errors.
    /// </summary>
    public abstract PemBundle? Apply(PemBundle current, string source);

    /// <summary>"add CA kubernetes (sha256 AB12…)" for plans.</summary>
    public abstract string Describe();

    protected string CaName => $"CA {CertificateFacts.CommonName(Ca)} (sha256 {CertificateFacts.Sha256Fingerprint(Ca)[..12]})";

    private sealed record Add(X509Certificate2 Ca) : TrustStoreEdit(Ca)
    {
        public override PemBundle? Apply(PemBundle current, string source) =>
            current.Contains(Ca) ? null : current.Merge([Ca]);

        public override string Describe() => "also trust " + CaName;
    }

    private sealed record Set(X509Certificate2 Ca) : TrustStoreEdit(Ca)
    {
        public override PemBundle? Apply(PemBundle current, string source) =>
            current.Count == 1 && current.Contains(Ca) ? null : PemBundle.Of(Ca);

        public override string Describe() => "trust only " + CaName;
    }

    private sealed record Remove(X509Certificate2 Ca) : TrustStoreEdit(Ca)
    {
        public override PemBundle? Apply(PemBundle current, string source)
        {
            if (!current.Contains(Ca)) return null;
            var rest = current.Remove(Ca);
            return rest.Count > 0
                ? rest
                : throw new RotationException($"{source} trusts only {CaName}, so dropping it would leave it trusting nothing; add the new CA to it first.");
        }

        public override string Describe() => "stop trusting " + CaName;
    }
}
