using System.ComponentModel;
using KubeCaRotate.Cluster;
using KubeCaRotate.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.ClusterAccess;

/// <summary>
/// A cluster named by an admin kubeconfig, and how its nodes are reached over SSH once they are found in the API
/// (every node with the same login, at its InternalIP, else ExternalIP, else Hostname).
/// </summary>
public class NodeAccessSettings : CommandSettings
{
    [CommandOption("--kubeconfig <FILE>")]
    [Description("An admin kubeconfig. Without --inventory the nodes are found from the API with it (their files are read over SSH when --ssh-user is given); with --inventory it overrides the inventory's.")]
    public string? Kubeconfig { get; init; }

    [CommandOption("--context <NAME>")]
    [Description("The kubeconfig context (default: its current context).")]
    public string? Context { get; init; }

    [CommandOption("--ssh-user <USER>")]
    [Description("Reach the nodes found from --kubeconfig over SSH as this user (the node's address from the API is the host).")]
    public string? SshUser { get; init; }

    [CommandOption("--ssh-key <FILE>")]
    [Description("The private key to log in with (OpenSSH format, no passphrase; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa).")]
    public string? SshKey { get; init; }

    [CommandOption("--ssh-port <N>")]
    [Description("The nodes' SSH port (default 22).")]
    public int? SshPort { get; init; }

    [CommandOption("--known-hosts <FILE>")]
    [Description("The known_hosts file the nodes' host keys are checked against (default ~/.ssh/known_hosts).")]
    public string? KnownHosts { get; init; }

    [CommandOption("--sudo")]
    [Description("Run file operations and commands on the nodes through sudo -n (for an SSH user that is not root).")]
    public bool Sudo { get; init; }

    /// <summary>The SSH options given, by name, for a message saying they do not apply.</summary>
    protected IReadOnlyList<string> SshOptionsGiven =>
    [
        .. SshUser is null ? Array.Empty<string>() : ["--ssh-user"],
        .. SshKey is null ? Array.Empty<string>() : ["--ssh-key"],
        .. SshPort is null ? Array.Empty<string>() : ["--ssh-port"],
        .. KnownHosts is null ? Array.Empty<string>() : ["--known-hosts"],
        .. Sudo ? ["--sudo"] : Array.Empty<string>(),
    ];

    /// <summary>Checks the kubeconfig and SSH options that are given; null when they are usable.</summary>
    protected ValidationResult? ValidateNodeAccess()
    {
        if (Kubeconfig is not null && !File.Exists(Kubeconfig))
            return ValidationResult.Error($"The kubeconfig {Path.GetFullPath(Kubeconfig)} does not exist; pass the path of an admin kubeconfig.");
        if (SshPort is < 1 or > 65535) return ValidationResult.Error($"--ssh-port {SshPort} is not a TCP port; pass a number from 1 to 65535.");
        if (SshKey is not null && !File.Exists(SshKey))
            return ValidationResult.Error($"The SSH key {Path.GetFullPath(SshKey)} (--ssh-key) does not exist; pass the path of a private key.");
        if (KnownHosts is not null && !File.Exists(KnownHosts))
            return ValidationResult.Error($"The known_hosts file {Path.GetFullPath(KnownHosts)} (--known-hosts) does not exist; pass a file that holds the nodes' host keys (ssh-keyscan writes them).");
        return null;
    }

    /// <summary>The access.ssh every discovered node gets (without its host); file paths absolute, defaults left to <see cref="SshNodeOptions"/>.</summary>
    public SshAccessSpec SshAccess() => new()
    {
        Port = SshPort ?? 22,
        User = SshUser,
        IdentityFile = SshKey is null ? null : Path.GetFullPath(SshKey),
        KnownHostsFile = KnownHosts is null ? null : Path.GetFullPath(KnownHosts),
        Sudo = Sudo,
    };

    /// <summary>The inventory the API's Node objects give, with the nodes reached over SSH as the options say.</summary>
    public Task<DiscoveredInventory> DiscoverAsync(CancellationToken ct) =>
        InventoryDiscovery.DiscoverAsync(Kubeconfig ?? throw new InvalidOperationException("No --kubeconfig to discover the nodes with."), Context, SshAccess(), null, ct);
}
