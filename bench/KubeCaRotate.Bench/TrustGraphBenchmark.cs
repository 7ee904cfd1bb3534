using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using KubeCaRotate.Cluster;
using KubeCaRotate.Tests.Trust;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Bench;

/// <summary>
/// verify (the trust model over every edge) and scan (every CA place and leaf) on a cluster of 3 control planes, 50
/// workers and 2,000 namespaces (a workload pod each), as a snapshot made in memory by the same generator the unit
/// tests use (kubeadm's files, real certificates): a lab of 53 node agents does not fit this 2-core machine. Each
/// operation starts cold, with a new model or scanner, as one CLI run does. Reading the cluster is not measured.
/// </summary>
[MemoryDiagnoser]
public class TrustGraphBenchmark
{
    private ClusterSnapshot _snapshot = null!;

    [Params(2000)]
    public int Namespaces { get; set; }

    [GlobalSetup]
    public void Setup() => _snapshot = new SyntheticCluster(controlPlanes: 3, workers: 50, namespaces: Namespaces).Snapshot;

    [Benchmark]
    public int Verify() => new TrustModel().Evaluate(_snapshot).Edges.Count;

    [Benchmark]
    public int Scan() => new CaScanner().Scan(_snapshot).Authorities.Count;

    [Benchmark]
    public int WhatIfRestartAll() => new TrustModel().Evaluate(_snapshot, [new ProposedChange.RestartPods("*", "*")]).Worsened.Count;

    /// <summary>
    /// bench/run.sh trust: one timed run of each (wall and this process's CPU seconds: on a loaded machine the CPU time is
    /// the steadier number), then BenchmarkDotNet (in process, 1 warmup, 3 iterations; 2,000 namespaces).
    /// </summary>
    public static int Run(bool quick, int namespaces = 2000)
    {
        var sw = Stopwatch.StartNew();
        var b = new TrustGraphBenchmark { Namespaces = namespaces };
        b.Setup();
        Console.WriteLine($"snapshot: {b._snapshot.Nodes.Count} nodes, {b._snapshot.Objects!.Namespaces.Count} namespaces, {b._snapshot.Objects.Pods.Count} pods, generated in {sw.Elapsed.TotalSeconds:F2} s");
        foreach (var (name, op) in new (string, Func<int>)[] { ("verify", b.Verify), ("scan", b.Scan), ("what-if (restart every pod)", b.WhatIfRestartAll) })
        {
            sw.Restart();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var n = op();
            Console.WriteLine($"{name}: {sw.Elapsed.TotalSeconds:F2} s, CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s (first run, cold; result {n})");
        }
        if (quick) return 0;
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
        BenchmarkRunner.Run<TrustGraphBenchmark>(config);
        return 0;
    }
}
