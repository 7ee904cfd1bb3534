namespace KubeCaRotate.Cluster;

/// <summary>How the API client behaves under load and failure. Frozen once the client is built.</summary>
public sealed record ClusterApiOptions
{
    /// <summary>At most this many requests in flight at once.</summary>
    public int MaxConcurrency { get; init; } = 8;

    /// <summary>Attempts per call for 429, 5xx, 409 and dropped connections (the first try included).</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The first back-off; it doubles per attempt up to <see cref="MaxBackoff"/> (a Retry-After header wins).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Items per page when listing (limit/continue).</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Timeout of one HTTP request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
