using KubeCaRotate.Cli;
using Spectre.Console.Testing;

namespace KubeCaRotate.Tests.TestSupport;

/// <summary>Runs the command line in-process, as a user would type it, and captures what it printed.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Output);

    public static Result Run(params string[] args)
    {
        var console = new TestConsole().Width(250);
        var code = CliApp.Run(args, console);
        return new Result(code, console.Output);
    }
}
