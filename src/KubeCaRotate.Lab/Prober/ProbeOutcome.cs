namespace KubeCaRotate.Lab.Prober;

/// <summary>What one attempt on an edge found: ok with the HTTP status, or a classed failure with its reason.</summary>
public sealed record ProbeOutcome(bool Ok, int? Status, FailureClass? Class, string? Error)
{
    public static ProbeOutcome Answered(int status) => new(true, status, null, null);

    public static ProbeOutcome Trust(string error, int? status = null) => new(false, status, FailureClass.Trust, error);

    public static ProbeOutcome Unavailable(string error, int? status = null) => new(false, status, FailureClass.Availability, error);
}
