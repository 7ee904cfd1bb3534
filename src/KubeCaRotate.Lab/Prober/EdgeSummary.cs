namespace KubeCaRotate.Lab.Prober;

/// <summary>One failed attempt as a report quotes it.</summary>
public sealed record FailureSample(DateTimeOffset Time, FailureClass Class, string? Error);

/// <summary>The attempts on one edge over a report's window.</summary>
public sealed record EdgeSummary(
    string Edge, EdgeKind Kind, string Client, string Server,
    int Attempts, int Ok, int TrustFailures, int AvailabilityFailures,
    FailureSample? FirstFailure, FailureSample? LastFailure,
    DateTimeOffset LastTime, bool LastOk);
