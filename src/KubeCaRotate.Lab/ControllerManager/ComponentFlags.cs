namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// Splits a Kubernetes component's command line into (flag, value) pairs the way pflag reads it: "--flag=value",
/// "--flag value", or a bare "--flag" (a boolean). The binary name and stray positional arguments are skipped.
/// </summary>
public static class ComponentFlags
{
    public static IEnumerable<(string Name, string? Value, string Arg)> Read(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
                continue;
            var body = arg.TrimStart('-');
            var eq = body.IndexOf('=');
            if (eq >= 0)
                yield return (body[..eq], body[(eq + 1)..], arg);
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                yield return (body, args[++i], arg);
            else
                yield return (body, null, arg);
        }
    }

    public static bool IsTrue(string? value) => value is null || !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);
}
