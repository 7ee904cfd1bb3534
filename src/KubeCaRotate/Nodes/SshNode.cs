using System.Globalization;

namespace KubeCaRotate.Nodes;

/// <summary>
/// A node reached over SSH. Every operation is one command on the node's one connection: a fixed POSIX shell script
/// (<c>sh -c SCRIPT sh ARGS</c>) whose arguments are quoted with <see cref="PosixShell.Quote"/>, run through
/// <c>sudo -n</c> when the inventory says so. Commands and not SFTP, because SFTP runs as the login user and cannot
/// reach root-owned files under /etc/kubernetes. File content travels over standard input and output only, never
/// on a command line, so private keys do not show in the node's process list or logs.
/// The node's "/" is <see cref="SshNodeOptions.Root"/> on the SSH host; as with <see cref="LocalNode"/>, paths and links
/// that lead outside it are refused, and links are stored with host paths. Needs GNU coreutils on the node
/// (realpath -m, stat -c, mv -T), as every kubeadm distribution has, and a POSIX login shell (sh, bash, dash, zsh).
/// </summary>
public sealed class SshNode : INodeAccess
{
    // Exit codes the scripts use for the answers that are not errors, or errors with their own sentence.
    private const int Absent = 3;
    private const int IsDirectory = 4;
    private const int Outside = 5;
    private const int FileInTheWay = 6;
    private const int RootMissing = 7;
    private const int CannotStart = 127;
    private const string CannotStartMarker = "kube-ca-rotate: cannot start ";
    private const string RootMissingMarker = "kube-ca-rotate: no root directory";

    /// <summary>
    /// Run before every script: $1 is the root. Checks the root exists and defines <c>inside PATH</c>, which refuses a
    /// path whose real location (links followed, as the kernel will) is outside the root.
    /// </summary>
    private const string Prelude = """
        export LC_ALL=C
        R=$1; shift
        if [ "$R" != / ]; then
          R=$(realpath -e -- "$R" 2>/dev/null) && [ -d "$R" ] || { printf 'kube-ca-rotate: no root directory\n' >&2; exit 7; }
        fi
        inside() {
          [ "$R" = / ] && return 0
          r=$(realpath -m -- "$1") || exit 1
          case $r in "$R"|"$R"/*) return 0;; esac
          printf '%s\n' "$r" >&2
          exit 5
        }

        """;

    private const string ReadScript = """
        inside "$1"
        [ -d "$1" ] && exit 4
        if [ ! -e "$1" ]; then
          d=$1
          while d=$(dirname -- "$d"); [ "$d" != / ] && [ "$d" != "$R" ]; do
            [ -d "$d" ] && exit 3
            if [ -e "$d" ]; then printf '%s\n' "$d" >&2; exit 6; fi
          done
          exit 3
        fi
        exec cat -- "$1"
        """;

    private const string ExistsScript = """
        inside "$1"
        [ -e "$1" ] || exit 3
        """;

    private const string ModeScript = """
        inside "$1"
        [ -e "$1" ] || exit 3
        exec stat -L -c %a -- "$1"
        """;

    private const string ModifiedScript = """
        inside "$1"
        [ -f "$1" ] || exit 3
        exec stat -L -c '%Y %y' -- "$1"
        """;

    // NUL-separated "KIND/NAME" entries; KIND is l (link), d (directory) or f (anything else).
    private const string ListScript = """
        inside "$1"
        [ -d "$1" ] || exit 0
        cd -- "$1" || exit 1
        for f in * .[!.]* ..?*; do
          if [ -L "$f" ]; then t=l; elif [ -d "$f" ]; then t=d; elif [ -e "$f" ]; then t=f; else continue; fi
          printf '%s/%s\0' "$t" "$f"
        done
        """;

    // $1 path, $2 mode (octal), $3 a nonce for the temporary file, $4 the content's length; the content is standard input.
    // A transfer cut short leaves a temporary file of the wrong length, which is removed, never renamed over the target.
    private const string WriteScript = """
        inside "$1"
        umask 022
        D=$(dirname -- "$1")
        if [ -e "$D" ] && [ ! -d "$D" ]; then printf '%s\n' "$D" >&2; exit 6; fi
        mkdir -p -- "$D" || exit 1
        T=$(realpath -m -- "$1") || exit 1
        [ -d "$T" ] && exit 4
        TD=$(dirname -- "$T")
        mkdir -p -- "$TD" || exit 1
        tmp=$TD/.$(basename -- "$T").$3.tmp
        trap 'rm -f -- "$tmp"' EXIT
        if [ "$4" -gt 0 ]; then (umask 077 && head -c "$4" > "$tmp") || exit 1; else (umask 077 && : > "$tmp") || exit 1; fi
        n=$(wc -c < "$tmp") && [ "$n" -eq "$4" ] || { echo "received $n of $4 bytes" >&2; exit 1; }
        chmod "$2" -- "$tmp" || exit 1
        sync -- "$tmp" 2>/dev/null || sync
        mv -f -- "$tmp" "$T" || exit 1
        trap - EXIT
        """;

    private const string DeleteScript = """
        inside "$(dirname -- "$1")"
        if [ ! -L "$1" ]; then
          [ -d "$1" ] && exit 4
          [ -e "$1" ] || exit 3
        fi
        exec rm -f -- "$1"
        """;

    private const string ReadLinkScript = """
        inside "$(dirname -- "$1")"
        [ -L "$1" ] || exit 3
        exec readlink -- "$1"
        """;

    // $1 link path, $2 target as stored on disk, $3 a nonce for the temporary link.
    private const string LinkScript = """
        D=$(dirname -- "$1")
        inside "$D"
        umask 022
        if [ -e "$D" ] && [ ! -d "$D" ]; then printf '%s\n' "$D" >&2; exit 6; fi
        mkdir -p -- "$D" || exit 1
        if [ -d "$1" ] && [ ! -L "$1" ]; then exit 4; fi
        tmp=$D/.$(basename -- "$1").$3.tmp
        trap 'rm -f -- "$tmp"' EXIT
        ln -s -- "$2" "$tmp" || exit 1
        mv -f -T -- "$tmp" "$1" || exit 1
        trap - EXIT
        """;

    // The arguments are the program and its arguments; it runs with the root as working directory, as LocalNode does.
    private const string RunScript = """
        cd -- "$R" || exit 1
        case $1 in
          */*) [ -f "$1" ] && [ -x "$1" ] ;;
          *) command -v -- "$1" >/dev/null 2>&1 ;;
        esac || { printf 'kube-ca-rotate: cannot start %s: not found or not executable\n' "$1" >&2; exit 127; }
        exec "$@" </dev/null
        """;

    private readonly SshConnection _connection;
    private readonly RootedPathResolver _resolver;
    private readonly SshNodeOptions _options;

    public SshNode(string name, SshNodeOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            throw new ArgumentException($"Node {name} is reached over SSH but has no host; set access.ssh.host in the inventory.", nameof(options));
        }

        if (!NodePath.IsAbsolute(options.Root))
        {
            throw new ArgumentException($"The root '{options.Root}' of node {name} must be an absolute path on the SSH host.", nameof(options));
        }

        Name = name;
        _options = options;
        _resolver = new RootedPathResolver(name, options.Root);
        _connection = new SshConnection(name, options);
    }

    public string Name { get; }

    /// <summary>The directory on the SSH host standing for the node's "/".</summary>
    public string Root => _resolver.Root;

    public async Task<byte[]?> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        var result = await ScriptAsync(ReadScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => result.Output,
            Absent => null,
            IsDirectory => throw new NodeAccessException(Name, nodePath, $"Cannot read {nodePath} on node {Name}: it is a directory, not a file."),
            FileInTheWay => throw new NodeAccessException(Name, nodePath,
                $"Cannot read {nodePath} on node {Name}: {NodePathOf(result.Error.Trim())} is a file where a directory is expected."),
            _ => throw Failed(result, nodePath, "read"),
        };
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        var result = await ScriptAsync(ExistsScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => true,
            Absent => false,
            _ => throw Failed(result, nodePath, "check"),
        };
    }

    public async Task<UnixFileMode?> GetFileModeAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        var result = await ScriptAsync(ModeScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => (UnixFileMode)Convert.ToInt32(result.OutputText.Trim(), 8),
            Absent => null,
            _ => throw Failed(result, nodePath, "read the mode of"),
        };
    }

    public async Task<DateTimeOffset?> GetModifiedTimeAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        var result = await ScriptAsync(ModifiedScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => ParseModifiedTime(result.OutputText, nodePath),
            Absent => null,
            _ => throw Failed(result, nodePath, "read the modification time of"),
        };
    }

    public async Task<IReadOnlyList<NodeDirectoryEntry>> ListDirectoryAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        var result = await ScriptAsync(ListScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw Failed(result, nodePath, "list");
        }

        return result.OutputText.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(item => (Kind: item[0], Name: item[2..]))
            .Select(item => new NodeDirectoryEntry(item.Name, NodePath.Combine(nodePath, item.Name), item.Kind switch
            {
                'l' => NodeEntryKind.Symlink,
                'd' => NodeEntryKind.Directory,
                _ => NodeEntryKind.File,
            }))
            .OrderBy(entry => entry.Name, StringComparer.Ordinal)
            .ToList();
    }

    public async Task WriteFileAsync(string path, byte[] content, UnixFileMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var nodePath = _resolver.NormalizeNodePath(path);
        RequireFileName(nodePath, "write");
        var result = await ScriptAsync(WriteScript, nodePath,
            [_resolver.ToHostPath(nodePath), FileModes.ToOctal(mode), Guid.NewGuid().ToString("N"), content.Length.ToString(CultureInfo.InvariantCulture)],
            content, cancellationToken).ConfigureAwait(false);
        switch (result.ExitCode)
        {
            case 0:
                return;
            case IsDirectory:
                throw new NodeAccessException(Name, nodePath, $"Cannot write {nodePath} on node {Name}: it is a directory.");
            case FileInTheWay:
                throw new NodeAccessException(Name, nodePath,
                    $"Cannot create the directory {NodePathOf(result.Error.Trim())} on node {Name}: a file is in the way.");
            default:
                throw Failed(result, nodePath, "write");
        }
    }

    public async Task<bool> DeleteFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        RequireFileName(nodePath, "delete");
        var result = await ScriptAsync(DeleteScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => true,
            Absent => false,
            IsDirectory => throw new NodeAccessException(Name, nodePath, $"Cannot delete {nodePath} on node {Name}: it is a directory, not a file."),
            _ => throw Failed(result, nodePath, "delete"),
        };
    }

    public async Task<string?> ReadSymlinkAsync(string path, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        var result = await ScriptAsync(ReadLinkScript, nodePath, [_resolver.ToHostPath(nodePath)], null, cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => _resolver.ToNodeLinkTarget(nodePath, StripOneNewline(result.OutputText)),
            Absent => null,
            _ => throw Failed(result, nodePath, "read the link"),
        };
    }

    public async Task CreateSymlinkAsync(string path, string target, CancellationToken cancellationToken = default)
    {
        var nodePath = _resolver.NormalizeNodePath(path);
        RequireFileName(nodePath, "link");
        var diskTarget = _resolver.ToDiskLinkTarget(nodePath, target);
        var result = await ScriptAsync(LinkScript, nodePath,
            [_resolver.ToHostPath(nodePath), diskTarget, Guid.NewGuid().ToString("N")], null, cancellationToken).ConfigureAwait(false);
        switch (result.ExitCode)
        {
            case 0:
                return;
            case IsDirectory:
                throw new NodeAccessException(Name, nodePath, $"Cannot create the link {nodePath} on node {Name}: a directory is in the way.");
            case FileInTheWay:
                throw new NodeAccessException(Name, nodePath,
                    $"Cannot create the directory {NodePathOf(result.Error.Trim())} on node {Name}: a file is in the way.");
            default:
                throw Failed(result, nodePath, "create the link");
        }
    }

    public async Task<CommandResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argv);
        if (argv.Count == 0 || string.IsNullOrEmpty(argv[0]))
        {
            throw new ArgumentException($"A command for node {Name} needs at least the program name.", nameof(argv));
        }

        // A command may change the node: it is not run a second time when the connection drops under it.
        var result = await _connection.ExecuteAsync(CommandText(RunScript, argv), null, retryOnDrop: false, argv[0], cancellationToken).ConfigureAwait(false);
        RequireRoot(result, argv[0]);
        if (result.ExitCode == CannotStart && result.Error.StartsWith(CannotStartMarker, StringComparison.Ordinal))
        {
            throw new NodeAccessException(Name, argv[0],
                $"Cannot run '{argv[0]}' on node {Name}: it is not found or not executable{(_options.Sudo ? " for sudo" : "")}. Check that the program is installed and on the PATH.");
        }

        RequireSudo(result, argv[0]);
        return new CommandResult(result.ExitCode, result.OutputText, result.Error);
    }

    /// <summary>Closes the node's SSH connection.</summary>
    public void Dispose() => _connection.Dispose();

    public override string ToString() => $"{Name} (ssh {_options.User}@{_options.Address}{(_options.Sudo ? ", sudo" : "")}, root {Root})";

    /// <summary>The command text sshd receives for a script and its arguments (the root first).</summary>
    private string CommandText(string script, IEnumerable<string> arguments) =>
        (_options.Sudo ? "sudo -n -- " : "") + "sh -c " + PosixShell.Quote(Prelude + script) + " sh " + PosixShell.Join(arguments.Prepend(Root));

    private async Task<RemoteResult> ScriptAsync(string script, string nodePath, IEnumerable<string> arguments, byte[]? input, CancellationToken ct)
    {
        // File operations are idempotent: one whose connection dropped is run again on a new connection.
        var result = await _connection.ExecuteAsync(CommandText(script, arguments), input, retryOnDrop: true, nodePath, ct).ConfigureAwait(false);
        RequireRoot(result, nodePath);
        RequireSudo(result, nodePath);
        if (result.ExitCode == Outside)
        {
            throw new NodeAccessException(Name, nodePath,
                $"The path {nodePath} on node {Name} leads outside the node's root {Root} (to {result.Error.Trim()}); node paths and symbolic links must stay inside the node.");
        }

        return result;
    }

    private void RequireRoot(RemoteResult result, string nodePath)
    {
        if (result.ExitCode == RootMissing && result.Error.StartsWith(RootMissingMarker, StringComparison.Ordinal))
        {
            throw new NodeAccessException(Name, nodePath,
                $"The root directory {Root} of node {Name} does not exist on {_options.Address}; create it or fix access.ssh.root in the inventory.");
        }
    }

    private void RequireSudo(RemoteResult result, string nodePath)
    {
        if (_options.Sudo && result.ExitCode != 0 && result.Error.StartsWith("sudo:", StringComparison.Ordinal) &&
            (result.Error.Contains("password", StringComparison.OrdinalIgnoreCase) || result.Error.Contains("not in the sudoers", StringComparison.Ordinal) ||
             result.Error.Contains("not allowed", StringComparison.Ordinal) || result.Error.Contains("command not found", StringComparison.Ordinal)))
        {
            throw new NodeAccessException(Name, nodePath,
                $"sudo on node {Name} ({_options.Address}) refused user {_options.User}: {result.Error.Trim()}; allow the user to run sh without a password (NOPASSWD in sudoers) or log in as root with access.ssh.sudo: false.");
        }
    }

    private NodeAccessException Failed(RemoteResult result, string nodePath, string verb)
    {
        var detail = result.Error.Trim();
        if (detail.Length > 500)
        {
            detail = detail[..500] + "...";
        }

        var hint = detail.Contains("Permission denied", StringComparison.Ordinal) && !_options.Sudo
            ? $" Log in as root or set access.ssh.sudo: true for node {Name} in the inventory."
            : "";
        return new NodeAccessException(Name, nodePath,
            $"Cannot {verb} {nodePath} on node {Name} ({_options.Address}): {(detail.Length > 0 ? detail : $"exit code {result.ExitCode}")}.{hint}");
    }

    /// <summary>"SECONDS yyyy-mm-dd hh:mm:ss.fffffffff +zone" from stat: seconds since the epoch plus the fraction, to 100 ns as .NET keeps it.</summary>
    private DateTimeOffset ParseModifiedTime(string text, string nodePath)
    {
        var parts = text.Trim().Split(' ');
        if (parts.Length < 3 || !long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new NodeAccessException(Name, nodePath, $"Cannot read the modification time of {nodePath} on node {Name}: stat printed '{text.Trim()}'.");
        }

        var time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        var dot = parts[2].IndexOf('.');
        if (dot >= 0)
        {
            var fraction = parts[2][(dot + 1)..].PadRight(7, '0')[..7];
            time = time.AddTicks(long.Parse(fraction, NumberStyles.Integer, CultureInfo.InvariantCulture));
        }

        return time;
    }

    private string NodePathOf(string hostPath) =>
        _resolver.IsHostRoot ? hostPath : hostPath.StartsWith(Root + "/", StringComparison.Ordinal) ? hostPath[Root.Length..] : hostPath;

    private static string StripOneNewline(string text) => text.EndsWith('\n') ? text[..^1] : text;

    private void RequireFileName(string nodePath, string verb)
    {
        if (nodePath == "/")
        {
            throw new NodeAccessException(Name, nodePath, $"Cannot {verb} '/' on node {Name}: give the path of a file.");
        }
    }
}
