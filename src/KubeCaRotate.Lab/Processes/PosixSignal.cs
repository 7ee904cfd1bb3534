using System.Runtime.InteropServices;

namespace KubeCaRotate.Lab.Processes;

/// <summary>kill(2) for the signals the lab sends: TERM for a graceful stop, KILL after the grace period, 0 to probe.</summary>
internal static partial class PosixSignal
{
    public const int Probe = 0;
    public const int Terminate = 15;
    public const int Kill = 9;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> to the whole process group led by <paramref name="groupLeader"/>
    /// (lab components run in their own session, so the group is the component and anything it forked).</summary>
    public static bool SendToGroup(int groupLeader, int signal) => SysKill(-groupLeader, signal) == 0;

    public static bool Send(int pid, int signal) => SysKill(pid, signal) == 0;
}
