using System.Globalization;
using KubeCaRotate.Rotation;
using Spectre.Console;

namespace KubeCaRotate.Cli.Rotation;

/// <summary>The report after a plan or a run: a table of the steps (id, name, procedure rows, node, outcome) and a summary of the CAs, warnings and journal copies.</summary>
public static class RotationReport
{
    /// <summary>The steps as a plan shows them: every change each step would make.</summary>
    public static void WritePlan(IAnsiConsole console, RotationOutcome plan)
    {
        WriteCopies(console, plan.JournalCopies);
        var table = new Table().AddColumns("#", "Step", "Procedure", "Node", "Batch", "State", "Changes");
        var n = 0;
        foreach (var step in plan.Steps)
        {
            table.AddRow(
                (++n).ToString(CultureInfo.InvariantCulture), Markup.Escape(step.Name), Markup.Escape(string.Join(", ", step.ProcedureRows)),
                Markup.Escape(step.Node), Markup.Escape(step.Batch),
                step.Outcome switch { StepOutcome.Planned => "to do", StepOutcome.AlreadyDone => "already done", _ => "done" },
                Markup.Escape(string.Join("\n", step.Changes.Select(c => c.StartsWith(step.Node + ": ", StringComparison.Ordinal) ? c[(step.Node.Length + 2)..] : c)
                    .Concat(step.Disruption is { } d ? ["DISRUPTION: " + d] : []))));
        }
        console.Write(table);
        var cas = string.Join("; ", plan.Cas.Select(ca => $"new {RotationPaths.Name(ca.Ca)}: sha256 {ProgressText.Short(ca.NewSha256)}"));
        foreach (var disruption in plan.Steps.Where(s => s.Disruption is not null).Select(s => s.Disruption!).Distinct())
            console.MarkupLine($"[yellow]unavoidable disruption:[/] {Markup.Escape(disruption)}");
        console.MarkupLine($"Phase after these steps: [bold]{ProgressText.Phase(plan.Phase)}[/]. {Markup.Escape(cas)} (made at start; a plan stages nothing). Nothing was changed.");
    }

    /// <summary>The steps as a run did them, then the summary.</summary>
    public static void WriteRun(IAnsiConsole console, RotationOutcome outcome)
    {
        var table = new Table().AddColumns("#", "Id", "Step", "Procedure", "Outcome");
        var n = 0;
        foreach (var step in outcome.Steps)
            table.AddRow((++n).ToString(CultureInfo.InvariantCulture), Markup.Escape(step.Id), Markup.Escape(step.Name),
                Markup.Escape(string.Join(", ", step.ProcedureRows)), ProgressText.Outcome(step.Outcome) + ProgressText.Changes(step.Changes.Count));
        console.Write(table);
        WriteSummary(console, outcome);
    }

    public static void WriteSummary(IAnsiConsole console, RotationOutcome outcome)
    {
        var counts = outcome.Steps.GroupBy(s => s.Outcome).OrderBy(g => g.Key)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {ProgressText.Outcome(g.Key)}"));
        console.MarkupLine($"Rotation [bold]{Markup.Escape(outcome.RotationId)}[/]: phase [bold]{ProgressText.Phase(outcome.Phase)}[/]; " +
            $"{outcome.Steps.Count.ToString(CultureInfo.InvariantCulture)} steps ({string.Join(", ", counts)}).{(outcome.DryRun ? " Dry run: nothing was changed." : "")}");
        foreach (var ca in outcome.Cas)
            console.MarkupLine(Markup.Escape($"  {RotationPaths.Name(ca.Ca)}: old sha256 {ProgressText.Short(ca.OldSha256)} -> new sha256 {ProgressText.Short(ca.NewSha256)}" +
                (ca.CrossSignedSha256 is { } cross ? $" (cross-signed copy {ProgressText.Short(cross)})" : "")));
        foreach (var sentence in outcome.Verified)
            console.MarkupLine($"  [green]verified:[/] {Markup.Escape(sentence)}");
        foreach (var warning in outcome.Warnings)
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        WriteCopies(console, outcome.JournalCopies);
    }

    /// <summary>A warning per control-plane node whose journal copy differs from the newest.</summary>
    public static void WriteCopies(IAnsiConsole console, IEnumerable<JournalCopy> copies)
    {
        foreach (var copy in copies.Where(c => c.Detail is not null))
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(copy.Detail!)}");
    }
}
