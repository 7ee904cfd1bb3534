namespace KubeCaRotate.Pki;

/// <summary>The key types kubeadm can generate (ClusterConfiguration.encryptionAlgorithm, v1beta4).</summary>
public enum KeyAlgorithm
{
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
}

public static class KeyAlgorithms
{
    private static readonly (KeyAlgorithm Algorithm, string Name)[] Names =
    [
        (KeyAlgorithm.Rsa2048, "RSA-2048"),
        (KeyAlgorithm.Rsa3072, "RSA-3072"),
        (KeyAlgorithm.Rsa4096, "RSA-4096"),
        (KeyAlgorithm.EcdsaP256, "ECDSA-P256"),
        (KeyAlgorithm.EcdsaP384, "ECDSA-P384"),
    ];

    /// <summary>kubeadm's spelling, e.g. "RSA-2048", "ECDSA-P256".</summary>
    public static string ToKubeadmName(this KeyAlgorithm algorithm) =>
        Names.First(n => n.Algorithm == algorithm).Name;

    public static IReadOnlyList<string> KubeadmNames => Names.Select(n => n.Name).ToArray();

    /// <summary>Parses kubeadm's names; an empty value means RSA-2048, as in kubeadm.</summary>
    public static bool TryParse(string? value, out KeyAlgorithm algorithm)
    {
        algorithm = KeyAlgorithm.Rsa2048;
        if (string.IsNullOrWhiteSpace(value)) return true;
        foreach (var (a, name) in Names)
        {
            if (string.Equals(name, value.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                algorithm = a;
                return true;
            }
        }
        return false;
    }

    public static KeyAlgorithm Parse(string? value) =>
        TryParse(value, out var a)
            ? a
            : throw new ArgumentException(
                $"'{value}' is not a key algorithm kubeadm knows; use one of {string.Join(", ", KubeadmNames)}.");
}
