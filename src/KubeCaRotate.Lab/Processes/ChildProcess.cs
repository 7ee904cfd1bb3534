using System.Diagnostics;

namespace KubeCaRotate.Lab.Processes;

/// <summary>
/// A lab component running as a separate OS process (Linux only). It is started in a new session through
/// util-linux <c>setsid</c> (without forking, so the pid we record is the component's own pid and the leader of
/// its process group), with stdin from /dev/null and stdout/stderr appended to a log file by the kernel rather
/// than through a pipe: the component does not depend on the starting CLI process, its terminal or its signals,
/// and outlives it. A pid file (pid + kernel start time) lets another invocation find and stop it later.
/// When no <c>setsid</c> is on the PATH the component runs in the starter's process group instead
/// (still logging to the file); <see cref="Detached"/> says which happened.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly Process? _owned;
    private readonly TimeProvider _time;

    private ChildProcess(ProcessIdentity identity, string pidFile, string? logFile, bool detached, Process? owned, TimeProvider time)
    {
        Identity = identity;
        PidFile = pidFile;
        LogFile = logFile;
        Detached = detached;
        _owned = owned;
        _time = time;
    }

    public ProcessIdentity Identity { get; }

    public int Pid => Identity.Pid;

    /// <summary>
    /// When the process started: the wall clock read just before it was started, when this handle started it (as a
    /// container runtime reports a container's start); otherwise the kernel's estimate from /proc, which rests on the
    /// boot time in whole seconds and can be a second early.
    /// </summary>
    public DateTimeOffset StartedAt => LaunchedAt ?? Identity.StartedAt;

    private DateTimeOffset? LaunchedAt { get; init; }

    public string PidFile { get; }

    /// <summary>The log file, when this handle started the process (a handle found by pid file does not know it).</summary>
    public string? LogFile { get; }

    /// <summary>True when the process leads its own session and process group.</summary>
    public bool Detached { get; }

    public bool IsAlive => Identity.IsAlive();

    /// <summary>
    /// Starts the process and returns once it runs in its own session (so that signalling its group reaches it and
    /// nothing else); throws, quoting its log, if it exits before that.
    /// </summary>
    private const string CallCountThresholdVariable = "DOTNET_TC_CallCountThreshold";

    public static async Task<ChildProcess> StartAsync(ChildProcessSpec spec, CancellationToken ct, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CreateParentDirectory(spec.LogFile);
        CreateParentDirectory(spec.PidFile);

        var setsid = FindOnPath("setsid");
        // sh only wires up the log file and then execs: the final image keeps sh's pid, and no argument is
        // ever interpreted by the shell ("$@" passes them through untouched).
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null");
        psi.ArgumentList.Add("lab-component");
        psi.ArgumentList.Add(spec.LogFile);
        if (setsid is not null) psi.ArgumentList.Add(setsid);
        psi.ArgumentList.Add(spec.FileName);
        foreach (var a in spec.Arguments) psi.ArgumentList.Add(a);
        if (spec.WorkingDirectory is not null) psi.WorkingDirectory = spec.WorkingDirectory;
        // Lab components are .NET processes restarted by the dozen in a rotation: promoting fewer methods to the optimizing
        // JIT (a call count of 1000 instead of 30) saves about 12 CPU s of an idle 3 + 2 lab's first 30 s on 2 cores
        // (bench/lab-start-cpu.sh: 40.1 → 28.0 CPU s). Harmless to etcd (Go); a value already in the environment wins.
        if (!psi.Environment.ContainsKey(CallCountThresholdVariable)) psi.Environment[CallCountThresholdVariable] = "1000";
        foreach (var (k, v) in spec.Environment) psi.Environment[k] = v;

        time ??= TimeProvider.System;
        var launchedAt = time.GetUtcNow();
        var process = Process.Start(psi)
            ?? throw new InvalidOperationException($"Could not start {spec.FileName}.");
        var identity = ProcessIdentity.Read(process.Id);
        var child = identity is null ? null : new ChildProcess(identity, spec.PidFile, spec.LogFile, setsid is not null, process, time) { LaunchedAt = launchedAt };
        // sh has to exec setsid, and setsid has to call setsid(2), before the process is detached.
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (child is not null && setsid is not null)
        {
            var stat = ProcessIdentity.ReadStat(process.Id);
            if (stat is null || stat.Value.State is 'Z' or 'X' || stat.Value.StartTicks != identity!.StartTicks) child = null;
            else if (stat.Value.Session == process.Id) break;
            else if (time.GetUtcNow() > deadline) throw new InvalidOperationException($"{spec.FileName} (pid {process.Id}) did not start its own session within 10 seconds.");
            else await Task.Delay(TimeSpan.FromMilliseconds(5), time, ct).ConfigureAwait(false);
        }
        if (child is null)
        {
            var excerpt = ReadLogExcerpt(spec.LogFile, 2, 12);
            process.Dispose();
            throw new InvalidOperationException($"{spec.FileName} exited as soon as it was started; from its log {spec.LogFile}:\n{excerpt}");
        }
        WriteAtomically(spec.PidFile, identity!.ToPidFileText());
        return child;
    }

    /// <summary>The process recorded in <paramref name="pidFile"/> (alive or not), or null when there is no pid file.</summary>
    public static ChildProcess? FromPidFile(string pidFile, TimeProvider? time = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(pidFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var identity = ProcessIdentity.ParsePidFile(pidFile, text);
        var detached = identity.IsAlive() && ProcessIdentity.ReadStat(identity.Pid)?.Session == identity.Pid;
        return new ChildProcess(identity, pidFile, null, detached, null, time ?? TimeProvider.System);
    }

    /// <summary>
    /// Stops the process: SIGTERM to its process group, SIGKILL to the group if it is still running after
    /// <paramref name="grace"/>, then waits until it is gone and removes the pid file.
    /// </summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken ct)
    {
        if (IsAlive)
        {
            Signal(PosixSignal.Terminate);
            if (!await WaitForExitAsync(grace, ct).ConfigureAwait(false))
            {
                Signal(PosixSignal.Kill);
                if (!await WaitForExitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"Process {Pid} (pid file {PidFile}) survived SIGKILL for 30 seconds.");
                }
            }
        }
        // Anything the component forked into its group goes with it, even when the component itself died earlier.
        // The group id is the component's pid, which the kernel does not hand out again while the group has members;
        // a live process now owning that pid means the group is gone and the pid reused, so it is left alone.
        if (ProcessIdentity.Read(Pid) is null) PosixSignal.SendToGroup(Pid, PosixSignal.Kill);
        File.Delete(PidFile);
    }

    /// <summary>Kills the process group at once (SIGKILL), waits until it is gone and removes the pid file.</summary>
    public Task KillAsync(CancellationToken ct) => StopAsync(TimeSpan.Zero, ct);

    /// <summary>Waits until the process has exited; false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (IsAlive)
        {
            if (_time.GetUtcNow() >= deadline) return false;
            await Task.Delay(PollInterval, _time, ct).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>The last lines of the log file, for error messages.</summary>
    public string ReadLogTail(int lines) => ReadLogExcerpt(0, lines);

    /// <summary>
    /// The first <paramref name="head"/> and last <paramref name="tail"/> lines of the log file, for error messages:
    /// programs that refuse their arguments say why on the first line, programs that fail later say it at the end.
    /// </summary>
    public string ReadLogExcerpt(int head, int tail) => LogFile is null ? "" : ReadLogExcerpt(LogFile, head, tail);

    private static string ReadLogExcerpt(string logFile, int head, int tail)
    {
        if (!File.Exists(logFile)) return "";
        using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var first = new List<string>();
        var last = new Queue<string>();
        var skipped = false;
        while (reader.ReadLine() is { } line)
        {
            if (first.Count < head)
            {
                first.Add(line);
                continue;
            }
            last.Enqueue(line);
            if (last.Count > tail)
            {
                last.Dequeue();
                skipped = true;
            }
        }
        return string.Join('\n', skipped ? [.. first, "...", .. last] : first.Concat(last));
    }

    public void Dispose() => _owned?.Dispose();

    private void Signal(int signal)
    {
        if (!(Detached && PosixSignal.SendToGroup(Pid, signal)) && Identity.IsAlive())
        {
            PosixSignal.Send(Pid, signal);
        }
    }

    private static string? FindOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static void CreateParentDirectory(string file)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(file));
        if (dir is not null) Directory.CreateDirectory(dir);
    }

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
