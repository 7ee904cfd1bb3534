using System.Net;
using System.Net.Sockets;
using KubeCaRotate.Lab.Etcd;
using KubeCaRotate.Lab.Processes;

namespace KubeCaRotate.Lab.Tests.Etcd;

/// <summary>The life of one real etcd process: start, health, found again by pid file, stopped with nothing left.</summary>
public sealed class EtcdMemberTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kcr-etcd-member-").FullName;

    [Fact]
    public async Task A_member_starts_healthy_is_found_by_its_pid_file_and_stops_leaving_no_process()
    {
        var args = SingleMemberArguments();
        var pidFile = Path.Combine(_dir, "run", "etcd.pid");
        using var member = await EtcdMember.StartAsync(new EtcdMemberSpec(args, Path.Combine(_dir, "log", "etcd.log"), pidFile), CancellationToken.None);
        try
        {
            await member.WaitHealthyAsync(TimeSpan.FromSeconds(60), CancellationToken.None);

            Assert.Equal("etcd", (await File.ReadAllTextAsync($"/proc/{member.Pid}/comm")).Trim());
            Assert.True(member.Process.Detached);
            Assert.InRange(member.StartedAt, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.Contains("\"name\":\"solo\"", await ReadSharedAsync(Path.Combine(_dir, "log", "etcd.log")));

            // Another CLI invocation (lab down) knows only the pid file.
            using var found = EtcdMember.FromPidFile(pidFile, args);
            Assert.NotNull(found);
            Assert.Equal(member.Pid, found.Pid);
            Assert.True(await found.IsHealthyAsync(CancellationToken.None));
            await found.StopAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        finally
        {
            await member.StopAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        Assert.False(member.IsRunning);
        Assert.False(File.Exists(pidFile));
        Assert.Empty(ProcessesMentioning(_dir));
        Assert.False(await member.IsHealthyAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_member_that_exits_at_once_fails_the_health_wait_with_its_log()
    {
        var args = SingleMemberArguments().Append("--no-such-flag").ToList();
        var spec = new EtcdMemberSpec(args, Path.Combine(_dir, "etcd.log"), Path.Combine(_dir, "etcd.pid"));

        // etcd may be gone before StartAsync returns or only while we wait for health: either way the error quotes its log.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            using var member = await EtcdMember.StartAsync(spec, CancellationToken.None);
            await member.WaitHealthyAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        });

        Assert.Contains("exited", e.Message);
        Assert.Contains("flag provided but not defined: -no-such-flag", e.Message);
        Assert.Empty(ProcessesMentioning(_dir));
    }

    [Fact]
    public void The_health_probe_is_the_plain_http_metrics_url()
    {
        Assert.Equal(new Uri("http://127.0.0.1:2381/health"), EtcdMemberSpec.HealthUriFrom(["--listen-metrics-urls=http://127.0.0.1:2381"]));
        Assert.Equal(new Uri("http://127.0.0.1:9/health"), EtcdMemberSpec.HealthUriFrom(["--listen-metrics-urls", "https://127.0.0.1:8,http://0.0.0.0:9"]));
        var e = Assert.Throws<ArgumentException>(() => EtcdMemberSpec.HealthUriFrom(["--name=a"]));
        Assert.StartsWith("The etcd flags have no --listen-metrics-urls", e.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<string> SingleMemberArguments()
    {
        var ports = new int[3];
        for (var i = 0; i < ports.Length; i++)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            ports[i] = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
        }
        return
        [
            "--name=solo",
            $"--data-dir={Path.Combine(_dir, "data")}",
            $"--listen-client-urls=http://127.0.0.1:{ports[0]}",
            $"--advertise-client-urls=http://127.0.0.1:{ports[0]}",
            $"--listen-peer-urls=http://127.0.0.1:{ports[1]}",
            $"--initial-advertise-peer-urls=http://127.0.0.1:{ports[1]}",
            $"--initial-cluster=solo=http://127.0.0.1:{ports[1]}",
            $"--listen-metrics-urls=http://127.0.0.1:{ports[2]}",
            "--logger=zap",
            "--log-outputs=stderr",
        ];
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>Live processes whose command line mentions <paramref name="text"/>.</summary>
    internal static List<int> ProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal) && ProcessIdentity.Read(pid) is not null) found.Add(pid);
            }
            catch (IOException)
            {
                // the process went away while we looked
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}
