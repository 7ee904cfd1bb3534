namespace KubeCaRotate.Cluster;

/// <summary>
/// The one way the rotation waits on the cluster: look, and if something still holds the wait up, look again every
/// <see cref="Poll"/> until the deadline, then fail with what the last look saw. An API that does not answer is one more
/// thing that holds the wait up, not an error of its own: a restarting API server is expected during a rotation.
/// </summary>
internal static class ClusterWait
{
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <param name="look">Null when there is nothing left to wait for; otherwise what holds the wait up, as part of a sentence.</param>
    /// <param name="timedOut">The error to throw at the deadline, given what the last look saw.</param>
    public static async Task UntilAsync(TimeProvider time, DateTimeOffset deadline, Func<CancellationToken, Task<string?>> look, Func<string, Exception> timedOut, CancellationToken ct)
    {
        while (true)
        {
            string? seen;
            try
            {
                seen = await look(ct).ConfigureAwait(false);
            }
            catch (ClusterApiException e)
            {
                seen = $"the API did not answer ({e.Message.TrimEnd('.')})";
            }
            if (seen is null) return;
            if (time.GetUtcNow() >= deadline) throw timedOut(seen);
            await Task.Delay(Poll, time, ct).ConfigureAwait(false);
        }
    }
}
