using System.Text;

namespace KubeCaRotate.Nodes;

/// <summary>
/// Quoting for a POSIX shell (sh, dash, bash, zsh), the one way an argument list becomes the command text an SSH
/// server hands to the login shell. Every argument comes back as exactly one word with no expansion of any kind.
/// </summary>
public static class PosixShell
{
    /// <summary>
    /// One shell word standing for <paramref name="argument"/>: left bare when it holds only characters no shell treats
    /// specially, otherwise in single quotes, each single quote written as <c>'\''</c>.
    /// </summary>
    public static string Quote(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (argument.Contains('\0'))
        {
            throw new ArgumentException("A command argument cannot contain a NUL character; no program can receive one.", nameof(argument));
        }

        if (argument.Length > 0 && argument.All(IsPlain))
        {
            return argument;
        }

        return "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>The argument list as one command line, each argument quoted.</summary>
    public static string Join(IEnumerable<string> argv)
    {
        var line = new StringBuilder();
        foreach (var argument in argv)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(Quote(argument));
        }

        return line.ToString();
    }

    private static bool IsPlain(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.' or '/' or ',' or ':' or '@' or '+' or '%';
}
