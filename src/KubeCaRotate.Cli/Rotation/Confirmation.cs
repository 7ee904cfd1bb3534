using Spectre.Console;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>
/// The question before a command changes a cluster: asked on an interactive console, refused (exit 2, nothing changed)
/// when nobody can answer, skipped with --yes.
/// </summary>
public static class Confirmation
{
    /// <summary>Throws <see cref="UsageException"/> when the console cannot ask; call before reading or planning anything.</summary>
    public static void EnsureCanAsk(IAnsiConsole console, string command)
    {
        if (!console.Profile.Capabilities.Interactive)
            throw new UsageException($"{command} changes the cluster and asks first, but this console cannot ask (input or output is redirected); pass --yes to go ahead, or --dry-run to see what it would do. Nothing was changed.");
    }

    /// <summary>Asks <paramref name="question"/>; a "no" is a <see cref="UsageException"/> saying nothing was changed.</summary>
    public static async Task AskAsync(IAnsiConsole console, string question, CancellationToken ct)
    {
        var yes = await new ConfirmationPrompt(question) { DefaultValue = false }.ShowAsync(console, ct);
        if (!yes) throw new UsageException("Not confirmed; nothing was changed.");
    }
}
