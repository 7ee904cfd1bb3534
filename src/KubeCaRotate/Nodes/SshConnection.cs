using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace KubeCaRotate.Nodes;

/// <summary>
/// One SSH connection to one node, opened on first use, reused by every command, opened again when it dropped, with at
/// most <see cref="SshNodeOptions.MaxConcurrentCommands"/> commands at once. The host key is checked against
/// known_hosts as OpenSSH's StrictHostKeyChecking=yes does; login is by private key only (no password, no ssh-agent).
/// </summary>
internal sealed class SshConnection : IDisposable
{
    private readonly string _nodeName;
    private readonly SshNodeOptions _options;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly SemaphoreSlim _slots;
    private SshClient? _client;
    private PrivateKeyFile[]? _keys;
    private bool _disposed;

    public SshConnection(string nodeName, SshNodeOptions options)
    {
        _nodeName = nodeName;
        _options = options;
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentCommands));
    }

    /// <summary>
    /// Runs <paramref name="commandText"/> (handed by sshd to the login shell), writing <paramref name="input"/> to its
    /// standard input and then closing it. With <paramref name="retryOnDrop"/>, a connection that dropped during the command
    /// is opened again and the command run once more (for commands that may safely run twice).
    /// </summary>
    public async Task<RemoteResult> ExecuteAsync(string commandText, byte[]? input, bool retryOnDrop, string nodePath, CancellationToken ct)
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var client = await ConnectedAsync(nodePath, ct).ConfigureAwait(false);
                try
                {
                    return await ExecuteOnceAsync(client, commandText, input, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SshConnectionException or ObjectDisposedException or SocketException && !ct.IsCancellationRequested)
                {
                    if (attempt == 0 && retryOnDrop)
                    {
                        continue;
                    }

                    throw new NodeAccessException(_nodeName, nodePath,
                        $"The SSH connection to node {_nodeName} ({_options.Address}) dropped while working on {nodePath}: {e.Message}; check the node and the network, then run again.", e);
                }
                catch (SshException e)
                {
                    throw new NodeAccessException(_nodeName, nodePath,
                        $"Node {_nodeName} ({_options.Address}) refused a command for {nodePath}: {e.Message}.", e);
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_client is { } client)
        {
            try
            {
                if (client.IsConnected)
                {
                    client.Disconnect();
                }
            }
            catch (Exception e) when (e is SshException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Closing anyway.
            }

            client.Dispose();
        }

        _connectGate.Dispose();
        _slots.Dispose();
    }

    private static async Task<RemoteResult> ExecuteOnceAsync(SshClient client, string commandText, byte[]? input, CancellationToken ct)
    {
        using var command = client.CreateCommand(commandText);
        var run = command.ExecuteAsync(ct);

        // Content goes over standard input, never on the command line. SSH.NET sends no end-of-file for an input stream
        // closed without data, so scripts never wait for one: they read exactly the length they were told, and commands
        // run with /dev/null as input.
        if (input is { Length: > 0 })
        {
            try
            {
                await using var stdin = command.CreateInputStream();
                await stdin.WriteAsync(input, ct).ConfigureAwait(false);
            }
            catch (Exception) when (run.IsCompleted)
            {
                // The command ended before reading its input; its result says why.
            }
        }

        await run.ConfigureAwait(false);
        using var output = new MemoryStream();
        await command.OutputStream.CopyToAsync(output, ct).ConfigureAwait(false);
        using var error = new MemoryStream();
        await command.ExtendedOutputStream.CopyToAsync(error, ct).ConfigureAwait(false);
        var stderr = System.Text.Encoding.UTF8.GetString(error.ToArray());
        var exit = command.ExitStatus;
        if (exit is null)
        {
            stderr += command.ExitSignal is { } signal ? $"(ended by signal {signal})" : "(no exit status)";
        }

        return new RemoteResult(exit ?? -1, output.ToArray(), stderr);
    }

    private async Task<SshClient> ConnectedAsync(string nodePath, CancellationToken ct)
    {
        await _connectGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_client is { IsConnected: true } connected)
            {
                return connected;
            }

            _client?.Dispose();
            _client = null;
            _client = await OpenAsync(nodePath, ct).ConfigureAwait(false);
            return _client;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<SshClient> OpenAsync(string nodePath, CancellationToken ct)
    {
        var knownHosts = KnownHosts.Load(_options.KnownHostsFile);
        var info = new ConnectionInfo(_options.Host, _options.Port, _options.User,
            new PrivateKeyAuthenticationMethod(_options.User, LoadKeys(nodePath)))
        {
            Timeout = _options.ConnectTimeout,
        };
        PreferKnownKeyTypes(info, knownHosts.KeyTypesFor(_options.Host, _options.Port));

        string? hostKeyRefusal = null;
        var client = new SshClient(info) { KeepAliveInterval = TimeSpan.FromSeconds(30) };
        client.HostKeyReceived += (_, e) =>
        {
            var verdict = knownHosts.Check(_options.Host, _options.Port, e.HostKey);
            e.CanTrust = verdict.Status == HostKeyStatus.Known;
            hostKeyRefusal = e.CanTrust ? null : HostKeyRefusal(verdict, e.HostKey, knownHosts.Path);
        };
        try
        {
            await client.ConnectAsync(ct).ConfigureAwait(false);
            return client;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            client.Dispose();
            throw hostKeyRefusal is not null
                ? new NodeAccessException(_nodeName, nodePath, hostKeyRefusal, e)
                : e switch
                {
                    SshAuthenticationException =>
                        new NodeAccessException(_nodeName, nodePath,
                            $"Node {_nodeName} ({_options.Address}) refused the login of user {_options.User} with the key {string.Join(", ", _options.IdentityFiles)}: {e.Message.TrimEnd('.')}; " +
                            $"add the public key to ~{_options.User}/.ssh/authorized_keys on the node, or set access.ssh.user and access.ssh.identityFile in the inventory (--ssh-user and --ssh-key for nodes found with --kubeconfig), then run again.", e),
                    SocketException or SshOperationTimeoutException or SshConnectionException or OperationCanceledException or ProxyException or IOException =>
                        new NodeAccessException(_nodeName, nodePath,
                            $"Node {_nodeName} ({_options.Address}) is unreachable: {Reason(e)}; check the address and that sshd runs, then run again.", e),
                    _ => e,
                };
        }
    }

    private string Reason(Exception e) => e switch
    {
        SshOperationTimeoutException or OperationCanceledException => $"no SSH answer within {_options.ConnectTimeout.TotalSeconds:0} s",
        SocketException socket => socket.Message.TrimEnd('.'),
        _ => e.Message.TrimEnd('.'),
    };

    private string HostKeyRefusal(HostKeyVerdict verdict, byte[] hostKey, string knownHostsFile)
    {
        var type = KnownHosts.KeyTypeOf(hostKey);
        var fingerprint = KnownHosts.Fingerprint(hostKey);
        var name = KnownHosts.HostName(_options.Host, _options.Port);
        var start = $"Node {_nodeName} ({_options.Address}) presented the {type} host key {fingerprint}";
        return verdict.Status switch
        {
            HostKeyStatus.Changed =>
                $"{start}, but {knownHostsFile} line {verdict.Line} records a different {type} key for {name}: the node was reinstalled or someone is in between; " +
                $"check the key on the node (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and, only if the change is expected, remove the old entry with " +
                $"'ssh-keygen -R \"{name}\" -f {knownHostsFile}' and add the new one, then run again.",
            HostKeyStatus.Revoked =>
                $"{start}, which {knownHostsFile} line {verdict.Line} marks @revoked; give the node a new host key, then run again.",
            _ =>
                $"{start}, which {knownHostsFile} does not list: the host is unknown; check the fingerprint on the node " +
                $"(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add it with 'ssh-keyscan -p {_options.Port} {_options.Host} >> {knownHostsFile}' " +
                $"or by logging in once by hand (ssh -p {_options.Port} {_options.User}@{_options.Host}), and run again.",
        };
    }

    /// <summary>
    /// As OpenSSH does, asks first for the key types known_hosts records for the host, so a host known by its RSA key
    /// is not refused for offering an Ed25519 key it was never asked for.
    /// </summary>
    private static void PreferKnownKeyTypes(ConnectionInfo info, IReadOnlySet<string> knownTypes)
    {
        if (knownTypes.Count == 0)
        {
            return;
        }

        static string KeyTypeOf(string algorithm) => algorithm is "rsa-sha2-256" or "rsa-sha2-512" ? "ssh-rsa" : algorithm;
        var unknown = info.HostKeyAlgorithms.Keys.Where(a => !knownTypes.Contains(KeyTypeOf(a))).ToList();
        if (unknown.Count == info.HostKeyAlgorithms.Count)
        {
            return;
        }

        foreach (var algorithm in unknown)
        {
            info.HostKeyAlgorithms.Remove(algorithm);
        }
    }

    private PrivateKeyFile[] LoadKeys(string nodePath)
    {
        if (_keys is not null)
        {
            return _keys;
        }

        if (_options.IdentityFiles.Count == 0)
        {
            throw new NodeAccessException(_nodeName, nodePath,
                $"There is no SSH key to log in to node {_nodeName} ({_options.Address}): set access.ssh.identityFile in the inventory (--ssh-key for nodes found with --kubeconfig), " +
                $"or create one of ~/.ssh/{string.Join(", ~/.ssh/", SshNodeOptions.DefaultIdentityNames)}.");
        }

        var keys = new List<PrivateKeyFile>();
        var refused = new List<string>();
        foreach (var file in _options.IdentityFiles)
        {
            try
            {
                keys.Add(new PrivateKeyFile(file));
            }
            catch (Exception e) when (e is SshException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or NotSupportedException)
            {
                var why = e is SshPassPhraseNullOrEmptyException ? "it is protected by a passphrase, which this tool cannot ask for (and ssh-agent is not supported)" : e.Message.TrimEnd('.');
                refused.Add($"{file}: {why}");
            }
        }

        if (keys.Count == 0 || (_options.IdentityFileNamed && refused.Count > 0))
        {
            throw new NodeAccessException(_nodeName, nodePath,
                $"The SSH key for node {_nodeName} cannot be used ({string.Join("; ", refused)}); give an OpenSSH private key without a passphrase in access.ssh.identityFile.");
        }

        _keys = [.. keys];
        return _keys;
    }
}

/// <summary>What a remote command returned: its exit code, its raw standard output and its standard error.</summary>
internal sealed record RemoteResult(int ExitCode, byte[] Output, string Error)
{
    public string OutputText => System.Text.Encoding.UTF8.GetString(Output);
}
