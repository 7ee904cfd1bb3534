using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace KubeCaRotate.Nodes;

/// <summary>
/// An OpenSSH known_hosts file, checked as <c>ssh -o StrictHostKeyChecking=yes</c> does: a host is named "host" on
/// port 22 and "[host]:port" otherwise; patterns may be hashed (<c>|1|salt|hash</c>, as <c>ssh-keygen -H</c> writes),
/// hold wildcards (* and ?) and negations (!); <c>@revoked</c> lines refuse a key. <c>@cert-authority</c> lines are
/// skipped: host certificates are not checked, so a host known only through a CA counts as unknown.
/// </summary>
public sealed class KnownHosts
{
    private readonly List<Entry> _entries;

    private KnownHosts(string path, List<Entry> entries)
    {
        Path = path;
        _entries = entries;
    }

    /// <summary>The file the entries came from.</summary>
    public string Path { get; }

    /// <summary>Reads the file; a missing file knows no host.</summary>
    public static KnownHosts Load(string path)
    {
        if (!File.Exists(path))
        {
            return new KnownHosts(path, []);
        }

        var entries = new List<Entry>();
        var lineNumber = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var revoked = false;
            if (fields[0].StartsWith('@'))
            {
                if (fields[0] == "@revoked")
                {
                    revoked = true;
                }
                else
                {
                    continue;
                }

                fields = fields[1..];
            }

            if (fields.Length < 3)
            {
                continue;
            }

            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(fields[2]);
            }
            catch (FormatException)
            {
                continue;
            }

            entries.Add(new Entry(fields[0].Split(','), fields[1], blob, revoked, lineNumber));
        }

        return new KnownHosts(path, entries);
    }

    /// <summary>The name known_hosts gives a host and port.</summary>
    public static string HostName(string host, int port) => port == 22 ? host : $"[{host}]:{port}";

    /// <summary>The key types (e.g. ssh-ed25519) the file records for the host, so the client asks for one of those first.</summary>
    public IReadOnlySet<string> KeyTypesFor(string host, int port)
    {
        var name = HostName(host, port);
        return _entries.Where(e => !e.Revoked && Matches(e.Patterns, name)).Select(e => e.KeyType).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Whether the key (its SSH wire blob) the host presented is the one the file records.</summary>
    public HostKeyVerdict Check(string host, int port, byte[] keyBlob)
    {
        var name = HostName(host, port);
        var keyType = KeyTypeOf(keyBlob);
        var matching = _entries.Where(e => Matches(e.Patterns, name)).ToList();
        if (matching.FirstOrDefault(e => e.Revoked && e.Blob.AsSpan().SequenceEqual(keyBlob)) is { } revoked)
        {
            return new HostKeyVerdict(HostKeyStatus.Revoked, revoked.Line);
        }

        if (matching.Any(e => !e.Revoked && e.Blob.AsSpan().SequenceEqual(keyBlob)))
        {
            return new HostKeyVerdict(HostKeyStatus.Known, null);
        }

        if (matching.FirstOrDefault(e => !e.Revoked && e.KeyType == keyType) is { } other)
        {
            return new HostKeyVerdict(HostKeyStatus.Changed, other.Line);
        }

        return new HostKeyVerdict(HostKeyStatus.Unknown, null);
    }

    /// <summary>"SHA256:..." as <c>ssh-keygen -l</c> prints it.</summary>
    public static string Fingerprint(byte[] keyBlob) =>
        "SHA256:" + Convert.ToBase64String(SHA256.HashData(keyBlob)).TrimEnd('=');

    /// <summary>The key type named at the start of an SSH public key blob, e.g. ssh-ed25519.</summary>
    public static string KeyTypeOf(byte[] keyBlob)
    {
        if (keyBlob.Length < 4)
        {
            return "";
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(keyBlob);
        return length <= keyBlob.Length - 4 ? Encoding.ASCII.GetString(keyBlob, 4, (int)length) : "";
    }

    private static bool Matches(string[] patterns, string name)
    {
        var matched = false;
        foreach (var pattern in patterns)
        {
            var negated = pattern.StartsWith('!');
            var body = negated ? pattern[1..] : pattern;
            if (!PatternMatches(body, name))
            {
                continue;
            }

            if (negated)
            {
                return false;
            }

            matched = true;
        }

        return matched;
    }

    private static bool PatternMatches(string pattern, string name)
    {
        if (pattern.StartsWith("|1|", StringComparison.Ordinal))
        {
            var parts = pattern.Split('|');
            if (parts.Length != 4)
            {
                return false;
            }

            try
            {
                var salt = Convert.FromBase64String(parts[2]);
                var hash = Convert.FromBase64String(parts[3]);
                return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name)), hash);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return Wildcard(pattern.ToLowerInvariant(), name.ToLowerInvariant());
    }

    private static bool Wildcard(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        while (pattern.Length > 0)
        {
            if (pattern[0] == '*')
            {
                pattern = pattern[1..];
                for (var i = 0; i <= text.Length; i++)
                {
                    if (Wildcard(pattern, text[i..]))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (text.Length == 0 || (pattern[0] != '?' && pattern[0] != text[0]))
            {
                return false;
            }

            pattern = pattern[1..];
            text = text[1..];
        }

        return text.Length == 0;
    }

    private sealed record Entry(string[] Patterns, string KeyType, byte[] Blob, bool Revoked, int Line);
}

public enum HostKeyStatus
{
    Known,
    Unknown,
    Changed,
    Revoked,
}

/// <summary>What known_hosts says about a key; <see cref="Line"/> is the line of the differing or revoking entry.</summary>
public sealed record HostKeyVerdict(HostKeyStatus Status, int? Line);
