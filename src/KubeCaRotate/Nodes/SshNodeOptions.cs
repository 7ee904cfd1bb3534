namespace KubeCaRotate.Nodes;

/// <summary>How to reach one node over SSH, with every path already resolved (see <see cref="FromInventory"/>).</summary>
public sealed record SshNodeOptions
{
    /// <summary>The keys tried when the inventory names none, in OpenSSH's order.</summary>
    public static readonly IReadOnlyList<string> DefaultIdentityNames = ["id_ed25519", "id_ecdsa", "id_rsa"];

    public required string Host { get; init; }

    public int Port { get; init; } = 22;

    public required string User { get; init; }

    /// <summary>The private key files to log in with, tried in order.</summary>
    public required IReadOnlyList<string> IdentityFiles { get; init; }

    /// <summary>Whether <see cref="IdentityFiles"/> was named by the operator (an unreadable one is then an error, not skipped).</summary>
    public bool IdentityFileNamed { get; init; }

    public required string KnownHostsFile { get; init; }

    /// <summary>Run every file operation and command through <c>sudo -n</c>.</summary>
    public bool Sudo { get; init; }

    /// <summary>The directory on the SSH host standing for the node's "/".</summary>
    public string Root { get; init; } = "/";

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many commands run on the node at once over its one connection (sshd's MaxSessions is 10 by default).</summary>
    public int MaxConcurrentCommands { get; init; } = 4;

    /// <summary>"host:port", as messages name the node's address.</summary>
    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>
    /// The options an inventory's access.ssh gives: the user defaults to the current one, keys and known_hosts to those
    /// under ~/.ssh; "~/" means the home directory and relative paths are relative to the inventory file.
    /// </summary>
    public static SshNodeOptions FromInventory(SshAccessSpec spec, Func<string, string> resolve)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(resolve);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string Expand(string path) =>
            path == "~" ? home : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, path[2..]) : resolve(path);

        var identityFiles = spec.IdentityFile is { Length: > 0 } named
            ? [Expand(named)]
            : DefaultIdentityNames.Select(n => Path.Combine(home, ".ssh", n)).Where(File.Exists).ToList();
        return new SshNodeOptions
        {
            Host = spec.Host,
            Port = spec.Port,
            User = spec.User is { Length: > 0 } user ? user : Environment.UserName,
            IdentityFiles = identityFiles,
            IdentityFileNamed = spec.IdentityFile is { Length: > 0 },
            KnownHostsFile = Expand(spec.KnownHostsFile is { Length: > 0 } known ? known : "~/.ssh/known_hosts"),
            Sudo = spec.Sudo,
            Root = spec.Root is { Length: > 0 } root ? root : "/",
        };
    }
}
