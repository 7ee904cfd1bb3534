using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

/// <summary>
/// A real OpenSSH server (Debian's openssh-server, scripts/install-deps.sh) started as a child process on 127.0.0.1 and
/// a free port, with a fresh host key and a fresh client key authorized for the current user; a class fixture, stopped
/// at the end. Every command it runs goes through a ForceCommand wrapper that appends the command text as received to
/// <see cref="CommandLogFile"/>, so tests can check what was sent. Shared with KubeCaRotate.Lab.Tests as a linked file.
/// </summary>
public sealed class SshServer : IDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private static readonly TimeSpan StartWait = TimeSpan.FromMinutes(2);
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public SshServer()
    {
        if (!File.Exists(Sshd))
        {
            throw new InvalidOperationException($"{Sshd} is missing; install openssh-server (scripts/install-deps.sh).");
        }

        Directory = System.IO.Directory.CreateTempSubdirectory("kcr-sshd-").FullName;
        HostKeyFile = Path.Combine(Directory, "host_ed25519");
        ClientKeyFile = Path.Combine(Directory, "client_ed25519");
        KnownHostsFile = Path.Combine(Directory, "known_hosts");
        CommandLogFile = Path.Combine(Directory, "commands.log");
        Keygen("-t", "ed25519", "-N", "", "-q", "-C", "kcr-test-host", "-f", HostKeyFile);
        Keygen("-t", "ed25519", "-N", "", "-q", "-C", "kcr-test-client", "-f", ClientKeyFile);
        File.Copy(ClientKeyFile + ".pub", Path.Combine(Directory, "authorized_keys"));
        Port = FreePort();
        HostKeyFingerprint = Keygen("-l", "-E", "sha256", "-f", HostKeyFile + ".pub").Split(' ')[1];
        File.WriteAllText(KnownHostsFile, $"[127.0.0.1]:{Port} {File.ReadAllText(HostKeyFile + ".pub").Trim()}\n");

        var wrapper = Path.Combine(Directory, "log-command");
        File.WriteAllText(wrapper,
            "#!/bin/sh\n" +
            $"printf '%s\\n\\036\\n' \"$SSH_ORIGINAL_COMMAND\" >> '{CommandLogFile}'\n" +
            "exec \"${SHELL:-/bin/sh}\" -c \"$SSH_ORIGINAL_COMMAND\"\n");
        File.SetUnixFileMode(wrapper, FileModes.Directory);
        var config = Path.Combine(Directory, "sshd_config");
        File.WriteAllText(config, $"""
            ListenAddress 127.0.0.1
            Port {Port}
            HostKey {HostKeyFile}
            PidFile {Path.Combine(Directory, "sshd.pid")}
            AuthorizedKeysFile {Path.Combine(Directory, "authorized_keys")}
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            StrictModes no
            UsePAM no
            MaxSessions 20
            MaxStartups 50
            LogLevel VERBOSE
            ForceCommand {wrapper}

            """);

        // sshd refuses to start as root without its privilege separation directory.
        if (Environment.UserName == "root" && !System.IO.Directory.Exists("/run/sshd"))
        {
            System.IO.Directory.CreateDirectory("/run/sshd");
        }

        var start = new ProcessStartInfo(Sshd)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-D", "-e", "-f", config })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("sshd did not start.");
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        WaitUntilListening();
    }

    public string Directory { get; }

    public int Port { get; }

    public string HostKeyFile { get; }

    /// <summary>"SHA256:..." of the host key, as ssh-keygen prints it.</summary>
    public string HostKeyFingerprint { get; }

    public string ClientKeyFile { get; }

    /// <summary>A known_hosts file listing this server's key under [127.0.0.1]:port.</summary>
    public string KnownHostsFile { get; }

    /// <summary>Every command text sshd received, each followed by a line holding \x1e.</summary>
    public string CommandLogFile { get; }

    /// <summary>What sshd logged (one "Accepted publickey" line per login).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public string CommandLog => File.Exists(CommandLogFile) ? File.ReadAllText(CommandLogFile) : "";

    /// <summary>Options reaching this server as the current user with the client key, for a node whose "/" is <paramref name="root"/>.</summary>
    public SshNodeOptions Options(string root, bool sudo = false) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        User = Environment.UserName,
        IdentityFiles = [ClientKeyFile],
        IdentityFileNamed = true,
        KnownHostsFile = KnownHostsFile,
        Sudo = sudo,
        Root = root,
    };

    /// <summary>Ends the per-connection sshd processes (children of the one this fixture started), dropping every open connection.</summary>
    public void DropConnections()
    {
        foreach (var child in Children(_process.Id))
        {
            try
            {
                using var process = Process.GetProcessById(child);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromMinutes(1));
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
    }

    /// <summary>Runs ssh-keygen and returns what it printed.</summary>
    public static string Keygen(params string[] arguments)
    {
        var start = new ProcessStartInfo("ssh-keygen") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen {string.Join(' ', arguments)} exited {process.ExitCode}: {error}");
        }

        return output;
    }

    /// <summary>A TCP port on 127.0.0.1 nothing listens on (just now).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromMinutes(1));
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private void WaitUntilListening()
    {
        var deadline = DateTime.UtcNow + StartWait;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"sshd exited with code {_process.ExitCode}: {Log}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                using var stream = client.GetStream();
                var banner = new byte[7];
                if (stream.Read(banner, 0, banner.Length) > 0 && Encoding.ASCII.GetString(banner).StartsWith("SSH-", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"sshd did not listen on 127.0.0.1:{Port} within {StartWait}: {Log}");
            }

            Thread.Sleep(100);
        }
    }

    private static IEnumerable<int> Children(int parent)
    {
        foreach (var stat in System.IO.Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "stat")))
        {
            string text;
            try
            {
                text = File.ReadAllText(stat);
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], out var ppid) && ppid == parent && int.TryParse(text[..text.IndexOf(' ')], out var pid))
            {
                yield return pid;
            }
        }
    }
}
