using KubeCaRotate.Cli.Lab;
using KubeCaRotate.Cli.Pki;
using KubeCaRotate.Lab.Topology;
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
        // A component's own flags (after "--") are the manifest's, in any form its real binary accepts (e.g. --v=3);
        // they are handed over untouched instead of going through this tool's option parser.
        var dashDash = Array.IndexOf(args, "--");
        if (dashDash >= 0 && args is ["lab", "component", ..])
        {
            LabComponentCommand.ComponentArguments = args[(dashDash + 1)..];
            args = args[..dashDash];
        }
        // Errors go to stderr on a terminal; a caller's console (tests) gets everything.
        var err = console ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console ??= DefaultConsole();
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("kube-ca-rotate");
            config.PropagateExceptions();
            config.ConfigureConsole(console);
            config.AddBranch("pki", pki =>
            {
                pki.SetDescription("Create and inspect kubeadm certificate directories.");
                pki.AddCommand<PkiInitCommand>("init")
                    .WithDescription("Write a complete kubeadm /etc/kubernetes tree (CAs, leaves, sa pair, kubeconfigs) into a directory.");
                pki.AddCommand<PkiInspectCommand>("inspect")
                    .WithDescription("Report every certificate of a kubeadm /etc/kubernetes tree, and its problems.");
            });
            config.AddCommand<KubeCaRotate.Cli.Trust.VerifyCommand>("verify")
                .WithDescription("Evaluate every trust edge of a cluster (both directions, as loaded and as on disk); exit 0 healthy, 1 broken, 4 at risk.");
            config.AddCommand<KubeCaRotate.Cli.ClusterAccess.InventoryCommand>("inventory")
                .WithDescription("Find the nodes from the API with an admin kubeconfig and write an inventory (YAML) that reaches them over SSH, to review and pass with --inventory; changes nothing.");
            config.AddCommand<KubeCaRotate.Cli.Rotation.RotatePlanCommand>("plan")
                .WithDescription("Show the steps of the next rotation phase in order (files, flags, restarts, waits) with their procedure rows; changes nothing.");
            config.AddCommand<KubeCaRotate.Cli.Rotation.RotateStartCommand>("start")
                .WithDescription("Rotate CAs: trust old and new everywhere, then switch every certificate and kubeconfig to the new CAs (--until trusted stops before); resumable.");
            config.AddCommand<KubeCaRotate.Cli.Rotation.RotateCompleteCommand>("complete")
                .WithDescription("Prove nothing depends on the old CAs, distrust them, restore kubeadm's layout; write the new admin kubeconfig and print the discovery hash.");
            config.AddCommand<KubeCaRotate.Cli.Rotation.RotateRollbackCommand>("rollback")
                .WithDescription("From any phase before complete, restore every file and object to its original bytes.");
            config.AddCommand<KubeCaRotate.Cli.Rotation.RotateStatusCommand>("status")
                .WithDescription("Show where a rotation stands: phase, steps finished, times, what waits for the operator, journal copies that disagree.");
            config.AddCommand<KubeCaRotate.Cli.Demo.DemoCommand>("demo")
                .WithDescription("Bring a lab up, rotate all three CAs while the prober runs, print its report with the downtime figure, and bring the lab down.");
            config.AddCommand<KubeCaRotate.Cli.Trust.ScanCommand>("scan")
                .WithDescription("List every place each CA appears, by SHA-256 fingerprint, and every leaf it signed with its expiry.");
            config.AddBranch("lab", lab =>
            {
                lab.SetDescription("The built-in lab cluster: kubeadm's files per node, real etcd, API server stand-ins, an HA endpoint.");
                lab.AddCommand<LabUpCommand>("up").WithDescription("Create and start a lab cluster, and wait until it is ready.");
                lab.AddCommand<LabDownCommand>("down").WithDescription("Stop every process of a lab.");
                lab.AddCommand<LabStatusCommand>("status").WithDescription("Show the lab's nodes, endpoints and processes.");
                lab.AddCommand<LabReportCommand>("report").WithDescription("Sum the prober's attempts per trust edge over a window: trust failures and HA endpoint failures.");
                lab.AddCommand<LabFaultCommand>("fault").WithDescription("Inject API server faults at run time: latency, 429, 500, 503, dropped connections.");
                lab.AddCommand<LabRestartKubeletCommand>("restart-kubelet").WithDescription("Restart a node's kubelet (static pods keep running) and wait until its node is Ready.");
                lab.AddCommand<LabKubeletStartedCommand>("kubelet-started").WithDescription("Print whether a node's kubelet runs and when it last started, as `systemctl show kubelet --property=ActiveState --property=ActiveEnterTimestamp` does.");
                lab.AddCommand<LabAgentCommand>("agent").IsHidden();
                lab.AddCommand<LabComponentCommand>("component").IsHidden();
            });
        });
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
        catch (Exception e) when (e is PkiException or LayoutFormatException or NodeAccessException or UsageException or DirectoryNotFoundException or InventoryException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.UsageError;
        }
        catch (KubeCaRotate.Rotation.StepRefusedException e)
        {
            err.MarkupLine($"[red]refused:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Refused;
        }
        catch (Exception e) when (e is KubeCaRotate.Rotation.RotationException or KubeCaRotate.Cluster.ClusterApiException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            err.MarkupLine("[red]interrupted:[/] the command was stopped; a rotation continues from its journal when you run the same command again.");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or LabException or TimeoutException)
        {
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything unforeseen still ends in one sentence; the type helps a bug report.
            err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)} ({e.GetType().Name}); please report this with the command you ran.");
            return ExitCodes.Failed;
        }
    }

    /// <summary>The terminal; when output goes to a file or pipe, tables are laid out 200 columns wide instead of wrapping at 80, and nothing asks or redraws.</summary>
    private static IAnsiConsole DefaultConsole()
    {
        // Nobody can answer a prompt or watch a live display through a pipe: plain lines, and --yes is needed.
        var redirected = Console.IsInputRedirected || Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect });
        if (Console.IsOutputRedirected) console.Profile.Width = 200;
        return console;
    }
}

/// <summary>Input that cannot be used as given: exit code 2, nothing changed.</summary>
public sealed class UsageException(string message) : Exception(message);
