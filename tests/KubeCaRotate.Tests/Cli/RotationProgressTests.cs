using KubeCaRotate.Cli.Output;
using KubeCaRotate.Cli.Rotation;
using KubeCaRotate.Rotation;
using Spectre.Console.Testing;

namespace KubeCaRotate.Tests.Cli;

/// <summary>Progress on a console that is not a terminal: one timestamped line per phase change, batch, step start and step finish, in order.</summary>
public class RotationProgressTests
{
    private static Step Step(string id, string node) => new()
    {
        Id = id, Name = $"do {id} on {node}", ProcedureRows = ["1"], Node = node, Batch = "kubelets",
        Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([]),
    };

    [Fact]
    public async Task A_redirected_console_gets_one_line_per_event_with_its_time_step_and_node()
    {
        var console = new TestConsole().Width(250);
        var at = new DateTimeOffset(2026, 5, 1, 10, 0, 0, TimeSpan.Zero);
        var steps = new[] { Step("trust/ca/kubelet/worker-1", "worker-1"), Step("trust/ca/kubelet/worker-2", "worker-2"), Step("trust/ca/kubelet/worker-3", "worker-3") };
        var events = new List<RotationEvent>
        {
            new RotationEvent.PhaseChanged(at, RotationPhase.Trusting),
            new RotationEvent.BatchStarted(at.AddSeconds(1), "kubelets", ["worker-1", "worker-2", "worker-3"], 2),
        };
        var n = 2;
        foreach (var step in steps)
        {
            events.Add(new RotationEvent.StepStarted(at.AddSeconds(n++), step));
            events.Add(new RotationEvent.StepFinished(at.AddSeconds(n++), step, step.Node == "worker-2" ? StepOutcome.AlreadyDone : StepOutcome.Applied,
                step.Node == "worker-2" ? [] : [new StepChange.RunCommand(step.Node, "kubelet", ["true"])]));
        }
        events.Add(new RotationEvent.PhaseChanged(at.AddSeconds(n), RotationPhase.Trusted));

        var result = await RotationProgress.RunAsync(console, OutputFormat.Table, steps.Length, progress =>
        {
            foreach (var e in events) progress.Report(e);
            return Task.FromResult(42);
        });

        Assert.Equal(42, result);
        var lines = console.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(events.Count, lines.Length);
        for (var i = 0; i < events.Count; i++)
            Assert.StartsWith(events[i].At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), lines[i]);
        Assert.Contains("phase    trusting", lines[0]);
        Assert.Contains("batch    kubelets: worker-1, worker-2, worker-3 (2 at a time)", lines[1]);
        Assert.Contains("start    trust/ca/kubelet/worker-1 on worker-1: do trust/ca/kubelet/worker-1 on worker-1", lines[2]);
        Assert.Contains("finished trust/ca/kubelet/worker-1 on worker-1: applied (1 change)", lines[3]);
        Assert.Contains("finished trust/ca/kubelet/worker-2 on worker-2: already done", lines[5]);
        Assert.Contains("phase    trusted", lines[^1]);
        Assert.Equal(steps.Length, lines.Count(l => l.Contains(" start ")));
        Assert.Equal(steps.Length, lines.Count(l => l.Contains(" finished ")));
    }

    [Fact]
    public async Task An_interactive_terminal_gets_a_live_view_that_ends_with_the_last_state()
    {
        var console = new TestConsole().Width(120).Interactive().EmitAnsiSequences();
        var step = Step("trust/ca/kubelet/worker-1", "worker-1");
        var at = DateTimeOffset.UnixEpoch;
        await RotationProgress.RunAsync(console, OutputFormat.Table, 1, progress =>
        {
            progress.Report(new RotationEvent.PhaseChanged(at, RotationPhase.Trusting));
            progress.Report(new RotationEvent.BatchStarted(at, "kubelets", ["worker-1"], 1));
            progress.Report(new RotationEvent.StepStarted(at, step));
            progress.Report(new RotationEvent.StepFinished(at, step, StepOutcome.Applied, []));
            progress.Report(new RotationEvent.PhaseChanged(at, RotationPhase.Trusted));
            return Task.FromResult(0);
        });
        Assert.True(RotationProgress.IsLive(console));
        Assert.Contains("1 of 1 finished (applied 1)", console.Output);
        Assert.Contains("trust/ca/kubelet/worker-1: applied", console.Output);
        Assert.Contains("trusted", console.Output);
        Assert.DoesNotContain("start    trust/ca/kubelet/worker-1", console.Output);
    }

    [Fact]
    public async Task A_stage_without_steps_is_a_prepare_line_and_the_live_view_shows_it_until_a_step_runs()
    {
        var at = new DateTimeOffset(2026, 5, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal("2026-05-01T10:00:00Z prepare  reading the cluster for the trust model", ProgressLines.Line(new RotationEvent.StageStarted(at, RunStage.ReadingCluster)));
        Assert.Equal("2026-05-01T10:00:00Z prepare  taking the rotation lock (the kube-system Lease)", ProgressLines.Line(new RotationEvent.StageStarted(at, RunStage.TakingLock)));

        var console = new TestConsole().Width(120).Interactive().EmitAnsiSequences();
        string? during = null;
        await RotationProgress.RunAsync(console, OutputFormat.Table, 1, progress =>
        {
            progress.Report(new RotationEvent.StageStarted(at, RunStage.ReadingCluster));
            during = console.Output;
            progress.Report(new RotationEvent.StepStarted(at, Step("trust/ca/kubelet/worker-1", "worker-1")));
            return Task.FromResult(0);
        });
        Assert.Contains("reading the cluster for the trust model …", during);
        Assert.EndsWith("worker-1: do trust/ca/kubelet/worker-1 on worker-1", console.Output.Split("Running").Last().Split('\n')[0].TrimEnd(' ', '│'));
    }

    [Fact]
    public void Every_line_is_flushed_as_it_is_written()
    {
        var writer = new FlushCountingWriter();
        var lines = new ProgressLines(writer);
        var step = Step("switch/ca/apiserver/cp-1", "cp-1");
        lines.Report(new RotationEvent.StepStarted(DateTimeOffset.UnixEpoch, step));
        Assert.Equal(1, writer.Flushes);
        Assert.EndsWith("\n", writer.ToString());
        lines.Report(new RotationEvent.StepFinished(DateTimeOffset.UnixEpoch, step, StepOutcome.Applied, []));
        Assert.Equal(2, writer.Flushes);
    }

    private sealed class FlushCountingWriter : StringWriter
    {
        public int Flushes { get; private set; }

        public override void Flush()
        {
            Flushes++;
            base.Flush();
        }
    }
}
