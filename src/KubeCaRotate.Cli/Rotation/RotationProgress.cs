using KubeCaRotate.Cli.Output;
using KubeCaRotate.Rotation;
using Spectre.Console;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>Picks how a run's progress is shown: live on an interactive terminal, plain lines otherwise, on stderr under -o json (stdout holds the JSON).</summary>
public static class RotationProgress
{
    public static Task<T> RunAsync<T>(IAnsiConsole console, OutputFormat format, int? totalSteps, Func<IProgress<RotationEvent>, Task<T>> run)
    {
        if (format == OutputFormat.Json) return run(new ProgressLines(Console.Error));
        if (IsLive(console)) return new LiveProgressView(totalSteps).RunAsync(console, run);
        return run(new ProgressLines(console.Profile.Out.Writer));
    }

    /// <summary>A terminal a person watches: it can be asked and redrawn in place.</summary>
    public static bool IsLive(IAnsiConsole console) => console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
}
