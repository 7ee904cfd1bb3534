using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Applies <see cref="FaultSettings"/> to a request before it is served: added latency, then at most one of
/// a dropped connection, 429 with Retry-After, 500 or 503. Settings come from a file re-read when it changes;
/// a missing file means no faults, an unreadable one keeps the last good settings.
/// </summary>
internal sealed class FaultInjector(string? file, TimeProvider time)
{
    private readonly Lock _gate = new();
    private FileStamp _stamp;
    private FaultSettings _settings = FaultSettings.None;

    public FaultSettings Current
    {
        get
        {
            if (file is null)
                return FaultSettings.None;
            var stamp = FileStamp.Of(file);
            lock (_gate)
            {
                if (stamp == _stamp)
                    return _settings;
                _stamp = stamp;
                if (stamp == default)
                    return _settings = FaultSettings.None;
                try
                {
                    _settings = JsonSerializer.Deserialize<FaultSettings>(File.ReadAllText(file)) ?? FaultSettings.None;
                }
                catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
                {
                    _stamp = default; // half-written: read again next time
                }
                return _settings;
            }
        }
    }

    /// <summary>True when the request was answered (or dropped) by a fault and must not be served.</summary>
    public async Task<bool> InjectAsync(HttpContext context)
    {
        var settings = Current;
        if (settings == FaultSettings.None || settings.ExemptPaths.Any(p => context.Request.Path.StartsWithSegments(p)))
            return false;
        var random = Random.Shared;
        if (settings.LatencyMs > 0 && random.NextDouble() < settings.LatencyRate)
            await Task.Delay(TimeSpan.FromMilliseconds(settings.LatencyMs), time, context.RequestAborted);
        if (random.NextDouble() < settings.AbortRate)
        {
            context.Abort();
            return true;
        }
        if (random.NextDouble() < settings.TooManyRequestsRate)
        {
            context.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var status = new ApiStatusException(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later",
                new JsonObject { ["retryAfterSeconds"] = settings.RetryAfterSeconds });
            await RestResponses.WriteStatusAsync(context, status);
            return true;
        }
        if (random.NextDouble() < settings.InternalErrorRate)
        {
            await RestResponses.WriteStatusAsync(context, new ApiStatusException(500, "InternalError", "Internal error occurred: injected by the lab fault file"));
            return true;
        }
        if (random.NextDouble() < settings.UnavailableRate)
        {
            await RestResponses.WriteStatusAsync(context, ApiStatusException.Unavailable("the server is currently unable to handle the request (injected by the lab fault file)"));
            return true;
        }
        return false;
    }
}
