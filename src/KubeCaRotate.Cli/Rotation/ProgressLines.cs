using System.Globalization;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>
/// Progress as plain timestamped lines, one per stage without steps, phase change, batch, step start and step finish, each flushed at once:
/// what an operator tailing a log (or a CI job) can follow. Used when the output is not an interactive terminal.
/// </summary>
public sealed class ProgressLines(TextWriter writer) : IProgress<RotationEvent>
{
    private readonly Lock _lock = new();

    public void Report(RotationEvent value)
    {
        var line = Line(value);
        lock (_lock)
        {
            writer.Write(line);
            writer.Write('\n');
            writer.Flush();
        }
    }

    public static string Line(RotationEvent e)
    {
        var at = e.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return e switch
        {
            RotationEvent.StageStarted g => $"{at} prepare  {ProgressText.Stage(g.Stage)}",
            RotationEvent.PhaseChanged p => $"{at} phase    {ProgressText.Phase(p.Phase)}",
            RotationEvent.BatchStarted b => $"{at} batch    {b.Batch}: {string.Join(", ", b.Nodes)} ({ProgressText.AtATime(b.Parallelism, b.Nodes.Count)})",
            RotationEvent.StepStarted s => $"{at} start    {s.Step.Id} on {s.Step.Node}: {s.Step.Name}",
            RotationEvent.StepFinished f => $"{at} finished {f.Step.Id} on {f.Step.Node}: {ProgressText.Outcome(f.Outcome)}{ProgressText.Changes(f.Changes.Count)}",
            _ => $"{at} {e}",
        };
    }
}
