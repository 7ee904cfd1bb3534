namespace KubeCaRotate.Trust;

/// <summary>One side of an edge: who it is, what certificate it presents and which CAs it trusts for the other side.</summary>
public sealed record EdgeEnd(
    string Description,
    string? Presents,
    string? PresentsCa,
    string? PresentsSource,
    IReadOnlyList<string> Trusts,
    string? TrustsSource);
