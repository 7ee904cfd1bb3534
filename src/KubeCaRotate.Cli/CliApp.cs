using KubeCaRotate.Cli.Pki;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli;

/// <summary>The command tree. Commands only fill options and call the library; errors become one sentence and an exit code.</summary>
public static class CliApp
{
    public static int Run(string[] args, IAnsiConsole? console = null)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("kube-ca-rotate");
            config.PropagateExceptions();
            if (console is not null) config.ConfigureConsole(console);
            config.AddBranch("pki", pki =>
            {
                pki.SetDescription("Create and inspect kubeadm certificate directories.");
                pki.AddCommand<PkiInitCommand>("init")
                    .WithDescription("Write a complete kubeadm /etc/kubernetes tree (CAs, leaves, sa pair, kubeconfigs) into a directory.");
                pki.AddCommand<PkiInspectCommand>("inspect")
                    .WithDescription("Report every certificate of a kubeadm /etc/kubernetes tree, and its problems.");
            });
        });
        var err = console ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        try
        {
            return app.Run(args);
        }
        catch (CommandParseException e)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.UsageError;
        }
        catch (CommandRuntimeException e)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.UsageError;
        }
        catch (Exception e) when (e is PkiException or LayoutFormatException or NodeAccessException or UsageException or DirectoryNotFoundException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.UsageError;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Failed;
        }
    }
}

/// <summary>Input that cannot be used as given: exit code 2, nothing changed.</summary>
public sealed class UsageException(string message) : Exception(message);
