using Spectre.Console;

namespace KubeCaRotate.Cli.Output;

/// <summary>Machine output (JSON, PEM, YAML) goes to the console's writer untouched: no markup, no wrapping at the terminal width.</summary>
public static class RawText
{
    public static void WriteLine(IAnsiConsole console, string text)
    {
        var writer = console.Profile.Out.Writer;
        writer.Write(text);
        writer.Write('\n');
        writer.Flush();
    }
}
