using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using KubeCaRotate.Lab.ApiServer;
using KubeCaRotate.Lab.Topology;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Lab;

/// <summary>Switches the API servers' fault injection at run time (DIR/faults.json, re-read by every API server when it changes).</summary>
public sealed class LabFaultCommand(IAnsiConsole console) : Command<LabFaultCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("The lab's directory (default ./.lab).")]
        public string Dir { get; init; } = ".lab";

        [CommandOption("--latency <MS>")]
        [Description("Added latency in milliseconds, applied with --latency-rate.")]
        public int LatencyMs { get; init; }

        [CommandOption("--latency-rate <RATE>")]
        public double LatencyRate { get; init; }

        [CommandOption("--throttle-rate <RATE>")]
        [Description("Share of requests answered 429 with Retry-After.")]
        public double TooManyRequestsRate { get; init; }

        [CommandOption("--retry-after <SECONDS>")]
        [DefaultValue(1)]
        public int RetryAfterSeconds { get; init; } = 1;

        [CommandOption("--error-rate <RATE>")]
        [Description("Share of requests answered 500.")]
        public double InternalErrorRate { get; init; }

        [CommandOption("--unavailable-rate <RATE>")]
        [Description("Share of requests answered 503.")]
        public double UnavailableRate { get; init; }

        [CommandOption("--drop-rate <RATE>")]
        [Description("Share of connections dropped without an answer.")]
        public double AbortRate { get; init; }

        [CommandOption("--clear")]
        [Description("Remove every fault.")]
        public bool Clear { get; init; }

        public override ValidationResult Validate()
        {
            foreach (var (name, rate) in new[] { ("--latency-rate", LatencyRate), ("--throttle-rate", TooManyRequestsRate), ("--error-rate", InternalErrorRate), ("--unavailable-rate", UnavailableRate), ("--drop-rate", AbortRate) })
                if (rate is < 0 or > 1) return ValidationResult.Error($"{name} {rate.ToString(CultureInfo.InvariantCulture)} must be between 0 and 1.");
            return LatencyMs < 0 ? ValidationResult.Error("--latency must not be negative.") : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var lab = LabTopology.Load(settings.Dir);
        if (settings.Clear)
        {
            File.Delete(lab.FaultFile);
            console.MarkupLine("Fault injection off.");
            return ExitCodes.Ok;
        }
        var faults = new FaultSettings
        {
            LatencyMs = settings.LatencyMs, LatencyRate = settings.LatencyRate, TooManyRequestsRate = settings.TooManyRequestsRate,
            RetryAfterSeconds = settings.RetryAfterSeconds, InternalErrorRate = settings.InternalErrorRate,
            UnavailableRate = settings.UnavailableRate, AbortRate = settings.AbortRate,
        };
        var temp = lab.FaultFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(faults));
        File.Move(temp, lab.FaultFile, overwrite: true);
        console.MarkupLine($"Faults written to {Markup.Escape(lab.FaultFile)}; every API server of the lab applies them to new requests.");
        return ExitCodes.Ok;
    }
}
