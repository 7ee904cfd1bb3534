using System.Globalization;

namespace KubeCaRotate.Lab.Processes;

/// <summary>
/// A process as the kernel knows it: its pid plus its start time in clock ticks since boot
/// (field 22 of /proc/PID/stat). The pair survives pid reuse, so a pid file written by one CLI
/// invocation never makes a later one signal an unrelated process.
/// </summary>
public sealed record ProcessIdentity(int Pid, long StartTicks)
{
    // USER_HZ is 100 on every Linux architecture .NET runs on.
    private const int TicksPerSecond = 100;

    /// <summary>The identity of a running process, or null when no live (non-zombie) process has that pid.</summary>
    public static ProcessIdentity? Read(int pid)
    {
        var stat = ReadStat(pid);
        return stat is null || stat.Value.State is 'Z' or 'X' ? null : new ProcessIdentity(pid, stat.Value.StartTicks);
    }

    /// <summary>True while this very process (same pid and start time) exists and is not a zombie.</summary>
    public bool IsAlive()
    {
        var stat = ReadStat(Pid);
        return stat is not null && stat.Value.StartTicks == StartTicks && stat.Value.State is not ('Z' or 'X');
    }

    /// <summary>Wall-clock start time, from the boot time in /proc/stat and the start ticks.</summary>
    public DateTimeOffset StartedAt
    {
        get
        {
            var bootLine = File.ReadLines("/proc/stat").First(l => l.StartsWith("btime ", StringComparison.Ordinal));
            var boot = long.Parse(bootLine.AsSpan(6).Trim(), CultureInfo.InvariantCulture);
            return DateTimeOffset.FromUnixTimeSeconds(boot).AddSeconds((double)StartTicks / TicksPerSecond);
        }
    }

    public string ToPidFileText() => $"{Pid.ToString(CultureInfo.InvariantCulture)}\n{StartTicks.ToString(CultureInfo.InvariantCulture)}\n";

    public static ProcessIdentity ParsePidFile(string path, string text)
    {
        var parts = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            throw new InvalidDataException($"The pid file {path} is not a lab pid file (expected a pid and a start time on two lines); remove it if no lab component runs.");
        }
        return new ProcessIdentity(pid, ticks);
    }

    /// <summary>Fields of /proc/PID/stat the lab needs, or null when there is no such process.</summary>
    internal static ProcessStat? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may contain spaces; fields after it are plain.
        var close = text.LastIndexOf(')');
        if (close < 0) return null;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state), so field N of proc(5) is fields[N - 3].
        return new ProcessStat(
            fields[0][0],
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            int.Parse(fields[3], CultureInfo.InvariantCulture),
            long.Parse(fields[19], CultureInfo.InvariantCulture));
    }
}

internal readonly record struct ProcessStat(char State, int ProcessGroup, int Session, long StartTicks);
