using System.ComponentModel;
using KubeCaRotate.Lab.Control;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

public sealed class LabDownCommand(IAnsiConsole console) : AsyncCommand<LabDownCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("The lab's directory (default ./.lab).")]
        public string Dir { get; init; } = ".lab";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var stopped = await new LabController(new ConsoleLineWriter(console), TimeProvider.System).DownAsync(settings.Dir, cancellationToken);
        console.MarkupLine($"Stopped {stopped} process(es); the lab's files stay in {Markup.Escape(Path.GetFullPath(settings.Dir))}.");
        return ExitCodes.Ok;
    }
}
