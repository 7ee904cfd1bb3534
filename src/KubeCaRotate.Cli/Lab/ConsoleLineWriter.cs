using System.Text;
using Spectre.Console;

namespace KubeCaRotate.Cli.Lab;

/// <summary>A TextWriter that prints whole lines to the console, for library progress messages.</summary>
internal sealed class ConsoleLineWriter(IAnsiConsole console) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            console.WriteLine(_line.ToString());
            _line.Clear();
        }
        else if (value != '\r')
        {
            _line.Append(value);
        }
    }
}
