using System.Net.Http.Json;
using System.Text.Json.Serialization;
using KubeCaRotate.Lab.Processes;

namespace KubeCaRotate.Lab.Etcd;

/// <summary>
/// A real etcd member running as a detached child process, probed for health on its plain-HTTP metrics URL
/// (<c>GET /health</c>, which in etcd 3.4 reports true only when the member has a leader and can serve a read).
/// </summary>
public sealed class EtcdMember : IDisposable
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);

    private readonly HttpClient _probe = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly TimeProvider _time;

    private EtcdMember(ChildProcess process, Uri healthUri, TimeProvider time)
    {
        Process = process;
        HealthUri = healthUri;
        _time = time;
    }

    public ChildProcess Process { get; }

    public Uri HealthUri { get; }

    public int Pid => Process.Pid;

    public DateTimeOffset StartedAt => Process.StartedAt;

    public bool IsRunning => Process.IsAlive;

    /// <summary>Starts the member (without waiting for health: members of a new cluster are healthy only together).</summary>
    public static async Task<EtcdMember> StartAsync(EtcdMemberSpec spec, CancellationToken ct, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var health = spec.HealthUri;
        var process = await ChildProcess.StartAsync(new ChildProcessSpec(spec.Binary, spec.Arguments, spec.LogFile, spec.PidFile), ct, time).ConfigureAwait(false);
        return new EtcdMember(process, health, time ?? TimeProvider.System);
    }

    /// <summary>The member recorded in <paramref name="pidFile"/> (e.g. for <c>lab down</c> or <c>lab status</c>), or null without a pid file.</summary>
    public static EtcdMember? FromPidFile(string pidFile, IReadOnlyList<string> arguments, TimeProvider? time = null)
    {
        var process = ChildProcess.FromPidFile(pidFile, time);
        return process is null ? null : new EtcdMember(process, EtcdMemberSpec.HealthUriFrom(arguments), time ?? TimeProvider.System);
    }

    /// <summary>One probe: true when the member says it is healthy.</summary>
    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        try
        {
            var health = await _probe.GetFromJsonAsync<EtcdHealth>(HealthUri, ct).ConfigureAwait(false);
            return health?.Health == "true";
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>Waits until the member is healthy; throws with the end of its log if it exits or <paramref name="timeout"/> passes.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (!await IsHealthyAsync(ct).ConfigureAwait(false))
        {
            if (!Process.IsAlive)
            {
                throw new InvalidOperationException($"etcd (pid {Pid}) exited before it became healthy; from its log {Process.LogFile}:\n{Process.ReadLogExcerpt(2, 12)}");
            }
            if (_time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"etcd (pid {Pid}) was not healthy at {HealthUri} within {timeout.TotalSeconds:0} seconds; from its log {Process.LogFile}:\n{Process.ReadLogExcerpt(2, 12)}");
            }
            await Task.Delay(ProbeInterval, _time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>; returns when the process is gone.</summary>
    public Task StopAsync(TimeSpan grace, CancellationToken ct) => Process.StopAsync(grace, ct);

    public void Dispose()
    {
        _probe.Dispose();
        Process.Dispose();
    }

    private sealed record EtcdHealth([property: JsonPropertyName("health")] string? Health);
}
