using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.Etcd;

namespace KubeCaRotate.Lab.Tests.Processes;

public sealed class ChildProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("kcr-child-").FullName;

    private ChildProcessSpec Shell(string script, string name = "c") =>
        new("/bin/sh", ["-c", script, _dir], Path.Combine(_dir, name + ".log"), Path.Combine(_dir, name + ".pid"));

    [Fact]
    public async Task Output_goes_to_the_log_file_and_the_process_leads_its_own_session()
    {
        var spec = Shell("echo out; echo err >&2; echo \"$GREETING from $(pwd)\"; exec sleep 300") with
        {
            Environment = new Dictionary<string, string> { ["GREETING"] = "hello" },
            WorkingDirectory = "/tmp",
        };
        using var child = await ChildProcess.StartAsync(spec, CancellationToken.None);
        try
        {
            Assert.True(child.IsAlive);
            Assert.True(child.Detached);
            var stat = (await File.ReadAllTextAsync($"/proc/{child.Pid}/stat")).Split(')')[1].Split(' ');
            Assert.Equal(child.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), stat[3]); // process group
            Assert.Equal(child.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), stat[4]); // session
            Assert.Equal(child.Identity.ToPidFileText(), await File.ReadAllTextAsync(spec.PidFile));

            await WaitUntilAsync(() => child.ReadLogTail(10).Contains("hello from /tmp", StringComparison.Ordinal));
            Assert.Equal("out\nerr\nhello from /tmp", child.ReadLogTail(10));
        }
        finally
        {
            await child.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        Assert.False(child.IsAlive);
    }

    [Fact]
    public async Task Stop_by_pid_file_ends_the_process_and_everything_it_forked()
    {
        // The component forks a grandchild that would otherwise outlive it.
        using var child = await ChildProcess.StartAsync(Shell("sleep 301 & sleep 302 & wait"), CancellationToken.None);
        await WaitUntilAsync(() => EtcdMemberTests.ProcessesMentioning("sleep 30").Count >= 2);

        var found = ChildProcess.FromPidFile(child.PidFile);
        Assert.NotNull(found);
        Assert.Equal(child.Identity, found.Identity);
        Assert.True(found.Detached);
        await found.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.False(child.IsAlive);
        Assert.False(File.Exists(child.PidFile));
        await WaitUntilAsync(() => GroupMembers(child.Pid).Count == 0);
        Assert.Null(ChildProcess.FromPidFile(child.PidFile));
    }

    [Fact]
    public async Task Stop_by_pid_file_cleans_up_the_children_of_a_component_that_already_died()
    {
        using var child = await ChildProcess.StartAsync(Shell("sleep 303 & sleep 304 & wait"), CancellationToken.None);
        await WaitUntilAsync(() => GroupMembers(child.Pid).Count >= 3);
        Assert.True(PosixKill(child.Pid));
        await WaitUntilAsync(() => !child.IsAlive);
        Assert.Equal(2, GroupMembers(child.Pid).Count);

        await ChildProcess.FromPidFile(child.PidFile)!.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        await WaitUntilAsync(() => GroupMembers(child.Pid).Count == 0);
    }

    [Fact]
    public async Task A_process_that_ignores_SIGTERM_is_killed_after_the_grace_period()
    {
        using var child = await ChildProcess.StartAsync(Shell("trap '' TERM; echo ready; while true; do sleep 1; done"), CancellationToken.None);
        await WaitUntilAsync(() => child.ReadLogTail(1) == "ready");

        await child.StopAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.False(child.IsAlive);
        await WaitUntilAsync(() => GroupMembers(child.Pid).Count == 0);
    }

    [Fact]
    public async Task A_pid_file_of_a_process_that_is_gone_or_reused_does_not_match()
    {
        using var child = await ChildProcess.StartAsync(Shell("sleep 1"), CancellationToken.None);
        await WaitUntilAsync(() => !child.IsAlive);
        Assert.False(ChildProcess.FromPidFile(child.PidFile)!.IsAlive);

        // Same pid, different start time: another process, never to be signalled.
        var reused = new ProcessIdentity(Environment.ProcessId, 1);
        Assert.False(reused.IsAlive());

        var bad = Path.Combine(_dir, "bad.pid");
        await File.WriteAllTextAsync(bad, "not a pid");
        var e = Assert.Throws<InvalidDataException>(() => ChildProcess.FromPidFile(bad));
        Assert.Contains(bad, e.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool PosixKill(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode == 0;
    }

    /// <summary>Live processes in the process group <paramref name="group"/>.</summary>
    private static List<int> GroupMembers(int group)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var fields = File.ReadAllText(Path.Combine(dir, "stat")).Split(')')[^1].Split(' ');
                if (fields[1] is not ("Z" or "X") && fields[3] == group.ToString(System.Globalization.CultureInfo.InvariantCulture)) members.Add(pid);
            }
            catch (IOException)
            {
            }
        }
        return members;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Generous);
        while (!condition()) await Task.Delay(50, cts.Token);
    }
}
