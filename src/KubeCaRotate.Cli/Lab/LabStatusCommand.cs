using System.ComponentModel;
using KubeCaRotate.Cli.Output;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Topology;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

public sealed class LabStatusCommand(IAnsiConsole console) : Command<LabStatusCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("The lab's directory (default ./.lab).")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("-o|--output <FORMAT>")]
        [Description("table (default) or json.")]
        public string? Output { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var lab = LabTopology.Load(settings.Dir);
        var processes = new LabController(TextWriter.Null, TimeProvider.System).Processes(lab);
        var probes = ProbeReport.Build(ProbeLog.Of(lab).Read());
        if (settings.Output == "json")
        {
            RawText.WriteLine(console, Json.Serialize(new { lab.Dir, endpoint = lab.EndpointUrl, nodes = lab.Nodes, processes, probes }));
            return ExitCodes.Ok;
        }
        console.MarkupLine($"Lab in [bold]{Markup.Escape(lab.Dir)}[/], endpoint {lab.EndpointUrl}");
        var nodes = new Table().Border(TableBorder.Simple);
        foreach (var h in new[] { "NODE", "ROLE", "ADDRESS", "API SERVER", "ETCD CLIENT", "ETCD PEER", "KUBELET" }) nodes.AddColumn(h);
        foreach (var n in lab.Nodes)
            nodes.AddRow(n.Name, n.IsControlPlane ? "control-plane" : "worker", n.Address,
                n.IsControlPlane ? n.ApiServerPort.ToString() : "-", n.IsControlPlane ? n.EtcdClientPort.ToString() : "-", n.IsControlPlane ? n.EtcdPeerPort.ToString() : "-", n.KubeletPort.ToString());
        console.Write(nodes);
        var table = new Table().Border(TableBorder.Simple);
        foreach (var h in new[] { "NODE", "PROCESS", "PID", "STATE", "STARTED (UTC)" }) table.AddColumn(h);
        foreach (var p in processes)
            table.AddRow(p.Node, p.Name, p.Pid.ToString(), p.Alive ? "[green]running[/]" : "[red]stopped[/]", p.StartedAt?.ToString("yyyy-MM-dd HH:mm:ss") ?? "-");
        console.Write(table);
        if (probes.Edges.Count == 0) return ExitCodes.Ok;
        console.MarkupLine($"Prober (since the lab started): {probes.TrustFailures} trust failures, {probes.EndpointFailures} HA endpoint failures; 'lab report' sums a window.");
        var edges = new Table().Border(TableBorder.Simple);
        foreach (var h in new[] { "EDGE", "LAST", "AT (UTC)", "TRUST FAILURES", "AVAILABILITY FAILURES" }) edges.AddColumn(h);
        foreach (var e in probes.Edges)
            edges.AddRow(Markup.Escape(e.Edge), e.LastOk ? "[green]ok[/]" : "[red]failed[/]", e.LastTime.ToString("HH:mm:ss"), e.TrustFailures.ToString(), e.AvailabilityFailures.ToString());
        console.Write(edges);
        return ExitCodes.Ok;
    }
}
