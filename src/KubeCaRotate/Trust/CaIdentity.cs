namespace KubeCaRotate.Trust;

/// <summary>A CA certificate seen somewhere in the cluster, with the short name reports use ("kubernetes [1A2B3C4D]").</summary>
public sealed record CaIdentity(string Name, string Subject, string Sha256, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
