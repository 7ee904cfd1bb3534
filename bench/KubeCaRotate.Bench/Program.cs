using System.Globalization;
using KubeCaRotate.Bench;

// bench/run.sh api [SECONDS] [CONCURRENCY] | bench/run.sh trust [--quick [--namespaces N]] | grow-lab DIR WORKERS NAMESPACES | read-phases INVENTORY (bench/read.sh)
var what = args.Length > 0 ? args[0] : "api";
var seconds = args.Length > 1 && what == "api" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var concurrency = args.Length > 2 && what == "api" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
return what switch
{
    "api" => await ApiThroughput.RunAsync(TimeSpan.FromSeconds(seconds), concurrency),
    "trust" => TrustGraphBenchmark.Run(quick: args.Contains("--quick"),
        namespaces: args.SkipWhile(a => a != "--namespaces").Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(2000)),
    "grow-lab" when args.Length == 4 => await LabScaleOut.RunAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture), CancellationToken.None),
    "read-phases" when args.Length == 2 => await ReadPhases.RunAsync(args[1], CancellationToken.None),
    _ => throw new ArgumentException($"unknown benchmark '{what}'; try: api, trust, grow-lab DIR WORKERS NAMESPACES, read-phases INVENTORY"),
};
