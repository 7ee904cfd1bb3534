using System.Text;
using System.Text.RegularExpressions;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

/// <summary>How an SSH node connects: host keys as StrictHostKeyChecking=yes, key login, one reused connection, sudo.</summary>
public sealed class SshConnectionTests(SshServer server) : IClassFixture<SshServer>, IDisposable
{
    private readonly TemporaryNodeRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task AnUnknownHostKeyIsRefusedWithItsFingerprint()
    {
        var empty = Path.Combine(_root.Path, "known_hosts");
        File.WriteAllText(empty, "");
        using var node = new SshNode("cp-1", server.Options(_root.Path) with { KnownHostsFile = empty });

        var error = await Assert.ThrowsAsync<NodeAccessException>(() => node.ReadFileAsync("/etc/kubernetes/admin.conf"));

        Assert.Contains("cp-1", error.Message);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        Assert.Contains(server.HostKeyFingerprint, error.Message);
        Assert.Contains("ssh-keyscan", error.Message);
        Assert.Contains(empty, error.Message);
    }

    [Fact]
    public async Task AChangedHostKeyIsRefused()
    {
        var otherKey = Path.Combine(_root.Path, "other");
        SshServer.Keygen("-t", "ed25519", "-N", "", "-q", "-f", otherKey);
        var known = Path.Combine(_root.Path, "known_hosts");
        File.WriteAllText(known, $"# another machine had this address\n[127.0.0.1]:{server.Port} {File.ReadAllText(otherKey + ".pub")}");
        using var node = new SshNode("cp-1", server.Options(_root.Path) with { KnownHostsFile = known });

        var error = await Assert.ThrowsAsync<NodeAccessException>(() => node.ExistsAsync("/etc"));

        Assert.Contains(server.HostKeyFingerprint, error.Message);
        Assert.Contains("line 2 records a different ssh-ed25519 key", error.Message);
        Assert.Contains("ssh-keygen -R", error.Message);
    }

    [Fact]
    public async Task HashedKnownHostsEntriesAreRead()
    {
        var known = Path.Combine(_root.Path, "known_hosts");
        File.Copy(server.KnownHostsFile, known);
        SshServer.Keygen("-H", "-f", known);
        Assert.DoesNotContain("127.0.0.1", File.ReadAllText(known));
        using var node = new SshNode("cp-1", server.Options(_root.Path) with { KnownHostsFile = known });

        Assert.False(await node.ExistsAsync("/etc/kubernetes/admin.conf"));
    }

    [Fact]
    public async Task AKeyTheServerDoesNotKnowIsRefusedWithASentence()
    {
        var wrong = Path.Combine(_root.Path, "wrong");
        SshServer.Keygen("-t", "ed25519", "-N", "", "-q", "-f", wrong);
        using var node = new SshNode("cp-1", server.Options(_root.Path) with { IdentityFiles = [wrong] });

        var error = await Assert.ThrowsAsync<NodeAccessException>(() => node.ReadFileAsync("/etc/kubernetes/admin.conf"));

        Assert.Contains($"Node cp-1 (127.0.0.1:{server.Port}) refused the login of user {Environment.UserName} with the key {wrong}", error.Message);
        Assert.Contains("authorized_keys", error.Message);
    }

    [Fact]
    public async Task AKeyWithAPassphraseIsRefusedBeforeConnecting()
    {
        var locked = Path.Combine(_root.Path, "locked");
        SshServer.Keygen("-t", "ed25519", "-N", "a passphrase", "-q", "-f", locked);
        using var node = new SshNode("cp-1", server.Options(_root.Path) with { IdentityFiles = [locked] });

        var error = await Assert.ThrowsAsync<NodeAccessException>(() => node.ReadFileAsync("/etc/kubernetes/admin.conf"));

        Assert.Contains(locked, error.Message);
        Assert.Contains("passphrase", error.Message);
    }

    [Fact]
    public async Task NobodyListeningGivesTheUnreachableSentence()
    {
        var port = SshServer.FreePort();
        using var node = new SshNode("worker-1", server.Options(_root.Path) with { Port = port });

        var error = await Assert.ThrowsAsync<NodeAccessException>(() => node.ReadFileAsync("/etc/kubernetes/kubelet.conf"));

        Assert.StartsWith($"Node worker-1 (127.0.0.1:{port}) is unreachable: ", error.Message);
        Assert.EndsWith("; check the address and that sshd runs, then run again.", error.Message);
        Assert.Equal("worker-1", error.NodeName);
    }

    [Fact]
    public async Task APrivateKeyIsWritten0600AndNeverSentOnACommandLine()
    {
        var secret = "-----BEGIN PRIVATE KEY-----\n" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()) + "\n-----END PRIVATE KEY-----\n";
        using var node = new SshNode("cp-1", server.Options(_root.Path));

        await node.WriteFileAsync("/etc/kubernetes/pki/ca.key", Encoding.ASCII.GetBytes(secret), FileModes.Private);

        Assert.Equal(FileModes.Private, File.GetUnixFileMode(_root.Host("/etc/kubernetes/pki/ca.key")));
        Assert.Equal(FileModes.Directory, File.GetUnixFileMode(_root.Host("/etc/kubernetes/pki")));
        Assert.Equal(secret, File.ReadAllText(_root.Host("/etc/kubernetes/pki/ca.key")));
        Assert.Equal(secret, Encoding.ASCII.GetString((await node.ReadFileAsync("/etc/kubernetes/pki/ca.key"))!));

        // sshd received the command that wrote the key (its path is in the log), but not a line of the key itself.
        var log = server.CommandLog;
        Assert.Contains(_root.Host("/etc/kubernetes/pki/ca.key"), log);
        foreach (var line in secret.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.DoesNotContain(line, log);
        }
    }

    [Fact]
    public async Task OneConnectionIsReusedAndOpenedAgainWhenItDrops()
    {
        var root = _root.Path;
        int Logins() => Regex.Matches(server.Log, "Accepted publickey").Count;
        using var node = new SshNode("cp-1", server.Options(root));
        await node.WriteFileAsync("/etc/a", "a"u8.ToArray(), FileModes.Public);
        var before = Logins();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => node.WriteFileAsync($"/etc/many/{i}", [(byte)i], FileModes.Public)));
        Assert.Equal(20, (await node.ListDirectoryAsync("/etc/many")).Count);
        Assert.Equal(before, Logins());

        server.DropConnections();
        Assert.Equal("a", Encoding.ASCII.GetString((await node.ReadFileAsync("/etc/a"))!));
        Assert.True(Logins() > before, "a new login after the connection dropped");
    }

    [SudoFact]
    public async Task SudoRunsEveryOperationThroughSudoN()
    {
        using var node = new SshNode("cp-1", server.Options(_root.Path, sudo: true));

        await node.WriteFileAsync("/etc/kubernetes/pki/sa.key", "key"u8.ToArray(), FileModes.Private);
        Assert.Equal("key", Encoding.ASCII.GetString((await node.ReadFileAsync("/etc/kubernetes/pki/sa.key"))!));
        Assert.Equal(FileModes.Private, await node.GetFileModeAsync("/etc/kubernetes/pki/sa.key"));
        var run = await node.RunAsync(["sh", "-c", "printf '%s' \"$SUDO_USER\""]);
        Assert.Equal(Environment.UserName, run.StandardOutput);

        var sent = server.CommandLog.Split("\n\u001e\n").Where(c => c.Contains(_root.Path, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(sent);
        Assert.All(sent, command => Assert.StartsWith("sudo -n -- sh -c ", command));
    }
}

/// <summary>A test that needs sudo on this machine (the SSH host): skipped, with the reason, where it is not installed.</summary>
public sealed class SudoFactAttribute : FactAttribute
{
    public SudoFactAttribute()
    {
        if (!File.Exists("/usr/bin/sudo"))
        {
            Skip = "sudo is not installed (scripts/install-deps.sh installs it), so the access.ssh.sudo path cannot be checked.";
        }
    }
}
