namespace KubeCaRotate.Trust;

/// <summary>The trust graph before and after a set of proposed changes, and the edges the changes make worse.</summary>
public sealed record WhatIfResult(TrustReport Before, TrustReport After, IReadOnlyList<TrustEdge> Worsened)
{
    /// <summary>True when no edge would end up broken that is not broken already.</summary>
    public bool IsSafe => !Worsened.Any(e => e.State == EdgeState.Broken);
}
