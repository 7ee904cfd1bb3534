using System.Globalization;
using KubeCaRotate.Rotation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>
/// Progress on an interactive terminal: one block redrawn in place with the phase, the batch (its nodes and how many
/// at a time), the step running on each node (or the stage without steps under way), the counts so far and the last steps finished.
/// </summary>
public sealed class LiveProgressView(int? totalSteps) : IProgress<RotationEvent>
{
    private const int LastShown = 5;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Step> _running = new(StringComparer.Ordinal);
    private readonly Queue<string> _last = new();
    private readonly Dictionary<StepOutcome, int> _counts = [];
    private RotationPhase? _phase;
    private RotationEvent.BatchStarted? _batch;
    private RunStage? _stage;
    private LiveDisplayContext? _display;

    /// <summary>Runs <paramref name="run"/> with this view drawn live on <paramref name="console"/>; the last state stays on screen.</summary>
    public Task<T> RunAsync<T>(IAnsiConsole console, Func<IProgress<RotationEvent>, Task<T>> run) =>
        console.Live(Render()).StartAsync(async context =>
        {
            lock (_lock) _display = context;
            try
            {
                return await run(this);
            }
            finally
            {
                lock (_lock)
                {
                    _display.UpdateTarget(Render());
                    _display = null;
                }
            }
        });

    public void Report(RotationEvent value)
    {
        lock (_lock)
        {
            switch (value)
            {
                case RotationEvent.StageStarted g:
                    _stage = g.Stage;
                    break;
                case RotationEvent.PhaseChanged p:
                    _phase = p.Phase;
                    break;
                case RotationEvent.BatchStarted b:
                    _batch = b;
                    _stage = null;
                    break;
                case RotationEvent.StepStarted s:
                    _running[s.Step.Node] = s.Step;
                    _stage = null;
                    break;
                case RotationEvent.StepFinished f:
                    if (_running.TryGetValue(f.Step.Node, out var current) && current.Id == f.Step.Id) _running.Remove(f.Step.Node);
                    _counts[f.Outcome] = _counts.GetValueOrDefault(f.Outcome) + 1;
                    _last.Enqueue($"{f.Step.Id}: {ProgressText.Outcome(f.Outcome)}{ProgressText.Changes(f.Changes.Count)}");
                    while (_last.Count > LastShown) _last.Dequeue();
                    break;
            }
            _display?.UpdateTarget(Render());
        }
    }

    private IRenderable Render()
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Markup("[bold]Phase[/]"), new Markup(_phase is { } p ? $"[bold]{ProgressText.Phase(p)}[/]" : "[grey]starting[/]"));
        grid.AddRow(new Markup("[bold]Batch[/]"), new Text(_batch is { } b ? $"{b.Batch}: {string.Join(", ", b.Nodes)} ({ProgressText.AtATime(b.Parallelism, b.Nodes.Count)})" : "-"));
        var running = _running.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value.Name}").ToList();
        grid.AddRow(new Markup("[bold]Running[/]"), new Text(running.Count > 0 ? string.Join("\n", running) : _stage is { } stage ? ProgressText.Stage(stage) + " …" : "-"));
        var finished = _counts.Values.Sum();
        var of = totalSteps is { } total ? string.Create(CultureInfo.InvariantCulture, $" of {total}") : "";
        var split = string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => string.Create(CultureInfo.InvariantCulture, $"{ProgressText.Outcome(c.Key)} {c.Value}")));
        grid.AddRow(new Markup("[bold]Steps[/]"), new Text(string.Create(CultureInfo.InvariantCulture, $"{finished}{of} finished") + (split.Length > 0 ? $" ({split})" : "")));
        grid.AddRow(new Markup("[bold]Last[/]"), new Text(_last.Count == 0 ? "-" : string.Join("\n", _last)));
        return new Panel(grid).Header("kube-ca-rotate").Border(BoxBorder.Rounded);
    }
}
