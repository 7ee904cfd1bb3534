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

    /// <summary>
    /// Where the stages before a run (opening the nodes, planning) are told, as plain lines: stderr under -o json,
    /// the console otherwise (before any live view, so a terminal keeps them above it and above a question).
    /// </summary>
    public static IProgress<RotationEvent> Preparation(IAnsiConsole console, OutputFormat format) =>
        new ProgressLines(format == OutputFormat.Json ? Console.Error : console.Profile.Out.Writer);

    /// <summary>Tells <paramref name="progress"/> that <paramref name="stage"/> begins now.</summary>
    public static void Begin(this IProgress<RotationEvent> progress, RunStage stage) =>
        progress.Report(new RotationEvent.StageStarted(TimeProvider.System.GetUtcNow(), stage));

    /// <summary>A terminal a person watches: it can be asked and redrawn in place.</summary>
    public static bool IsLive(IAnsiConsole console) => console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
}
