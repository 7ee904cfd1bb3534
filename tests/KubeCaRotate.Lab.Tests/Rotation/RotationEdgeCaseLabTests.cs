using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KubeCaRotate.Cli;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// The rotation's edge cases on one single-control-plane lab, run as an operator runs them (the real executable):
/// plan and dry run change nothing, bad brought CAs are refused before anything changes, an API server that never
/// becomes ready and a worker that cannot be reached stop the run with a sentence naming them and a rerun continues
/// with the same new CA, rollback restores every byte, and the single API server's restarts are the only
/// unavailability. Every test leaves a healthy cluster (idle, rolled back or completed), so they run in any order.
/// </summary>
[Collection(RotationEdgeCaseLabCollection.Name)]
public sealed partial class RotationEdgeCaseLabTests(RotationEdgeCaseLab lab)
{
    [Fact]
    public async Task Plan_and_dry_run_change_nothing_and_the_plan_announces_the_single_api_server_and_etcd_disruption()
    {
        var before = lab.NodeFileHashes(withRotationState: true);
        var phaseBefore = (await lab.StatusAsync()).GetProperty("phase").GetString();

        var plan = await lab.RunAsync(["plan", "--inventory", lab.Inventory, "-o", "json"]);
        plan.EnsureExit(ExitCodes.Ok);
        var disruptions = JsonDocument.Parse(plan.Stdout).RootElement.GetProperty("steps").EnumerateArray()
            .Where(s => s.GetProperty("disruption").ValueKind == JsonValueKind.String)
            .Select(s => (Id: s.GetProperty("id").GetString()!, Text: s.GetProperty("disruption").GetString()!)).ToList();
        Assert.Contains(disruptions, d => d.Id.Contains("restart-kube-apiserver/cp-1", StringComparison.Ordinal)
            && d.Text.Contains("the cluster's only API server restarts", StringComparison.Ordinal));
        Assert.Contains(disruptions, d => d.Id.Contains("restart-etcd/cp-1", StringComparison.Ordinal)
            && d.Text.Contains("quorum", StringComparison.Ordinal));

        var dry = await lab.StartAsync("--dry-run", "-o", "json");
        dry.EnsureExit(ExitCodes.Ok);
        Assert.NotEmpty(JsonDocument.Parse(dry.Stdout).RootElement.GetProperty("steps").EnumerateArray());

        Assert.Equal(before, lab.NodeFileHashes(withRotationState: true));
        Assert.Equal(phaseBefore, (await lab.StatusAsync()).GetProperty("phase").GetString());
    }

    [Fact]
    public async Task A_brought_cluster_ca_with_a_foreign_key_a_leaf_or_too_short_a_validity_is_refused_and_nothing_changes()
    {
        var byo = Path.Combine(lab.Dir, "byo");
        Directory.CreateDirectory(byo);
        await OpenSslAsync(byo, "ca", days: 3650, isCa: true);
        await OpenSslAsync(byo, "other", days: 3650, isCa: true);
        await OpenSslAsync(byo, "leaf", days: 3650, isCa: false);
        await OpenSslAsync(byo, "short", days: 30, isCa: true);
        string F(string name) => Path.Combine(byo, name);

        var before = lab.NodeFileHashes(withRotationState: true);
        var journalBefore = lab.Journal()?.ToString();
        var statusBefore = (await lab.StatusAsync()).GetProperty("phase").GetString();
        var cases = new (string[] Args, string[] Sentence)[]
        {
            (["--cluster-ca-cert", F("ca.crt"), "--cluster-ca-key", F("other.key")], [$"The key {F("other.key")} does not belong to the new CA {F("ca.crt")}", "give the private key"]),
            (["--cluster-ca-cert", F("leaf.crt"), "--cluster-ca-key", F("leaf.key")], [$"The new CA {F("leaf.crt")} is not a CA certificate", "basicConstraints CA:TRUE"]),
            (["--cluster-ca-cert", F("short.crt"), "--cluster-ca-key", F("short.key"), "--leaf-validity", "60d"], [$"The new CA {F("short.crt")} expires on", "before the leaves it will sign for 1440h would", "shorten the leaf validity"]),
        };
        foreach (var (args, sentence) in cases)
        {
            var run = await lab.StartAsync(args);
            var message = Sentence(run.Stderr);
            Assert.True(run.ExitCode == ExitCodes.UsageError, $"start {string.Join(' ', args)}: exit {run.ExitCode}: {message}");
            Assert.Matches(@"^error: [^\n]+\.$", message);
            Assert.Equal(0, SentenceEnds().Count(message)); // one sentence: no ". X" inside
            foreach (var part in sentence) Assert.Contains(part, message, StringComparison.Ordinal);
            Assert.Equal(before, lab.NodeFileHashes(withRotationState: true));
            Assert.Equal(journalBefore, lab.Journal()?.ToString());
        }
        Assert.Equal(statusBefore, (await lab.StatusAsync()).GetProperty("phase").GetString());
    }

    [RotationLabFact]
    public async Task An_api_server_that_never_becomes_ready_stops_start_a_rerun_continues_with_the_same_ca_and_rollback_from_trusted_restores_every_byte()
    {
        var pristine = lab.NodeFileHashes(withRotationState: false);
        var faulted = 0;
        try
        {
            // The API server restarted by the trust phase (it loads --etcd-cafile only at start) answers 503 to everything, /readyz included: it never becomes ready.
            var failed = await lab.RunAsync(["start", "--inventory", lab.Inventory, "--yes"], onLine: line =>
            {
                if (line.Contains(" start    trust/restart-kube-apiserver/cp-1 ", StringComparison.Ordinal) && Interlocked.Exchange(ref faulted, 1) == 0)
                    lab.SetFaults("""{"unavailableRate":1,"exemptPaths":[]}""");
            }, waitTimeout: RotationEdgeCaseLab.WaitTimeout);
            var message = Sentence(failed.Stderr);
            Assert.True(faulted == 1, $"start never reached the API server's restart (exit {failed.ExitCode}): {message}\n{Tail(failed.Stdout)}");
            Assert.True(failed.ExitCode == ExitCodes.Failed, $"exit {failed.ExitCode}: {message}");
            Assert.Matches(@"^error: kube-apiserver on cp-1 did not come back within 30 s: .+, then run again\.$", message);

            var journal = lab.Journal()!.Value;
            Assert.Equal("trusting", journal.GetProperty("phase").GetString());
            var finished = journal.GetProperty("finishedSteps").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
            Assert.Contains("trust/ca/bundle/cp-1", finished);
            Assert.Contains("trust/ca/kubeconfig/cp-1/admin.conf", finished);
            Assert.DoesNotContain("trust/restart-kube-apiserver/cp-1", finished);
            var newCa = NewSha256(journal);
            var status = await lab.StatusAsync();
            Assert.Equal("trusting", status.GetProperty("phase").GetString());
            Assert.Equal(finished.Count, status.GetProperty("finishedSteps").GetInt32());

            // The rerun continues from the journal with the same new CAs, to the end of the trust phase.
            lab.SetFaults(null);
            var rerun = await lab.StartAsync("--until", "trusted");
            rerun.EnsureExit(ExitCodes.Ok);
            journal = lab.Journal()!.Value;
            Assert.Equal("trusted", journal.GetProperty("phase").GetString());
            Assert.Equal(newCa, NewSha256(journal));
            Assert.NotEqual(pristine, lab.NodeFileHashes(withRotationState: false));
        }
        catch
        {
            lab.SetFaults(null);
            await lab.LeaveHealthyAsync();
            throw;
        }

        // Rollback from the trust phase restores every byte, and the cluster verifies clean.
        var rollback = await lab.RollbackAsync();
        // Whatever the first rollback did, a cluster rolled back in the end is what the other tests need.
        var retried = rollback.ExitCode == 0 ? null : await lab.RollbackAsync();
        Assert.Equal("rolled-back", (await lab.StatusAsync()).GetProperty("phase").GetString());
        Assert.Equal(pristine, lab.NodeFileHashes(withRotationState: false));
        Assert.True(rollback.ExitCode == ExitCodes.Ok,
            $"the first rollback from trusted exited {rollback.ExitCode}: {Sentence(rollback.Stderr)} (run again, it exited {retried?.ExitCode.ToString() ?? "-"})");
        await lab.VerifyCleanAsync(TimeSpan.FromSeconds(60));
    }

    [RotationLabFact]
    public async Task A_worker_unreachable_half_way_stops_start_a_rerun_finishes_and_the_rotation_has_only_the_announced_unavailability()
    {
        try
        {
            await WorkerUnreachableThenRotationAsync();
        }
        catch
        {
            await lab.LeaveHealthyAsync();
            throw;
        }
    }

    private async Task WorkerUnreachableThenRotationAsync()
    {
        var since = DateTimeOffset.UtcNow;
        var original = await File.ReadAllBytesAsync(lab.Inventory);
        var progress = new List<string>();
        ToolRun failed;
        try
        {
            // worker-1 cannot be reached when its kubelet is to restart: the restart command fails as ssh does.
            var inventory = Inventory.Load(lab.Inventory);
            inventory.Node("worker-1").RestartKubelet = ["sh", "-c", "echo 'ssh: connect to host 127.0.0.101 port 22: No route to host' >&2; exit 255"];
            await File.WriteAllTextAsync(lab.Inventory, inventory.ToYaml());
            failed = await lab.StartAsync("-o", "json");
        }
        finally
        {
            await File.WriteAllBytesAsync(lab.Inventory, original);
        }
        progress.AddRange(failed.Stderr.Split('\n'));
        var message = Sentence(failed.Stderr);
        Assert.True(failed.ExitCode == ExitCodes.Failed, $"exit {failed.ExitCode}: {message}");
        Assert.Matches(@"^error: Restarting kubelet on worker-1 with .+ failed with exit code 255 \(ssh: connect to host 127\.0\.0\.101 port 22: No route to host\); fix the restart command in the inventory or restart it by hand, then run again\.$", message);
        var journal = lab.Journal()!.Value;
        Assert.Equal("trusting", journal.GetProperty("phase").GetString());
        var finished = journal.GetProperty("finishedSteps").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
        Assert.Contains("trust/ca/restart-kubelet/cp-1", finished);
        Assert.Contains("trust/ca/kubelet-conf/worker-1", finished);
        Assert.DoesNotContain("trust/ca/restart-kubelet/worker-1", finished);
        var newCas = NewSha256(journal);

        var start = await lab.StartAsync("-o", "json");
        start.EnsureExit(ExitCodes.Ok);
        progress.AddRange(start.Stderr.Split('\n'));
        var started = JsonDocument.Parse(start.Stdout).RootElement;
        Assert.Equal("switched", started.GetProperty("phase").GetString());
        Assert.Equal(newCas, NewSha256(lab.Journal()!.Value));
        var complete = await lab.RunAsync(["complete", "--inventory", lab.Inventory, "--yes", "-o", "json"]);
        complete.EnsureExit(ExitCodes.Ok);
        progress.AddRange(complete.Stderr.Split('\n'));
        var completed = JsonDocument.Parse(complete.Stdout).RootElement;
        Assert.Equal("completed", completed.GetProperty("phase").GetString());
        var until = DateTimeOffset.UtcNow;

        await AssertOnlyAnnouncedUnavailabilityAsync(since, until, progress, [started, completed],
            mustAnnounce: ["trust/restart-kube-apiserver/cp-1", "trust/ca/restart-kubelet/worker-1"]);
    }

    /// <summary>
    /// `--mode renew` on the single control plane: the CAs' validity is extended, no leaf is re-issued (every leaf and
    /// kubelet client certificate keeps its bytes), the prober sees no trust failure (no failed handshake), and verify
    /// is clean.
    /// </summary>
    [RotationLabFact]
    public async Task Renew_extends_the_cas_with_no_failed_handshake_and_no_leaf_reissued()
    {
        var since = DateTimeOffset.UtcNow;
        var cp = lab.Lab.Nodes.Single(n => n.IsControlPlane).Name;
        var leaves = KubeadmCatalog.Leaves.Select(l => Path.Combine(lab.NodesDir, cp) + KubeadmPaths.Default.Pki(l.CertFile))
            .Concat(lab.Lab.Nodes.Select(n => Path.Combine(lab.NodesDir, n.Name) + KubeadmPaths.Default.KubeletClientCurrent))
            .ToDictionary(f => f, File.ReadAllText);
        var cas = KubeadmCatalog.CertificateAuthorities.ToDictionary(c => c.Kind, c => Path.Combine(lab.NodesDir, cp) + RotationPaths.Default.CaCert(c.Kind));
        var oldNotAfter = cas.ToDictionary(c => c.Key, c => PemBundle.Parse(File.ReadAllText(c.Value), c.Value).First!.NotAfter);
        try
        {
            (await lab.StartAsync("--mode", "renew")).EnsureExit(ExitCodes.Ok);
            (await lab.CompleteAsync()).EnsureExit(ExitCodes.Ok);
            var until = DateTimeOffset.UtcNow;

            foreach (var (file, content) in leaves) Assert.True(content == File.ReadAllText(file), $"{file} was re-issued by a renewal");
            foreach (var (kind, file) in cas)
            {
                var renewed = PemBundle.Parse(File.ReadAllText(file), file);
                Assert.Single(renewed.Certificates);
                Assert.True(renewed.First!.NotAfter > oldNotAfter[kind], $"{file}: {renewed.First.NotAfter} is not after {oldNotAfter[kind]}");
            }
            // Zero failed handshakes. The single API server's and etcd member's restarts are announced unavailability; the
            // availability of the whole rotation is judged by the worker test above, since a 1 + 1 lab's real etcd may
            // also answer a health check 503 when the machine is saturated (a whole run: once, 20 s after a restart).
            var report = await lab.ReportAsync(since, until);
            Assert.True(report.GetProperty("trustFailures").GetInt32() == 0, RotationLabFixture.Failures(report));
            await lab.VerifyCleanAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await lab.LeaveHealthyAsync();
            throw;
        }
    }

    /// <summary>
    /// The prober, between two times, saw no trust failure, and every availability failure fell in the window of a step
    /// whose disruption the run's outcomes (`-o json` of start, complete) announced, timed by its progress lines.
    /// </summary>
    private async Task AssertOnlyAnnouncedUnavailabilityAsync(DateTimeOffset since, DateTimeOffset until, IEnumerable<string> progress, IEnumerable<JsonElement> outcomes, string[] mustAnnounce)
    {
        var announced = outcomes.SelectMany(o => o.GetProperty("steps").EnumerateArray())
            .Where(s => s.GetProperty("disruption").ValueKind == JsonValueKind.String).Select(s => s.GetProperty("id").GetString()!).ToHashSet();
        foreach (var id in mustAnnounce) Assert.Contains(id, announced);
        var windows = Windows(progress, announced, until);

        var report = await lab.ReportAsync(since, until);
        var edges = report.GetProperty("edges").EnumerateArray().ToList();
        Assert.True(report.GetProperty("trustFailures").GetInt32() == 0,
            "trust failures: " + string.Join("; ", edges.Where(e => e.GetProperty("trustFailures").GetInt32() > 0).Select(Describe)));
        var unannounced = edges.Where(e => e.GetProperty("availabilityFailures").GetInt32() > 0 && !Announced(e, windows)).Select(Describe).ToList();
        Assert.True(unannounced.Count == 0,
            $"availability failures the plan did not announce (windows {string.Join(", ", windows.Select(w => $"{w.From:HH:mm:ss}-{w.To:HH:mm:ss}"))}): {string.Join("; ", unannounced)}");
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(15));

    private static Dictionary<string, string> NewSha256(JsonElement journal) =>
        journal.GetProperty("cas").EnumerateArray().ToDictionary(c => c.GetProperty("ca").ToString(), c => c.GetProperty("newSha256").ToString());

    /// <summary>The error as one line: the console wraps at 80 columns; progress lines before it are left out.</summary>
    private static string Sentence(string stderr)
    {
        var start = stderr.IndexOf("error:", StringComparison.Ordinal);
        var text = start < 0 ? stderr : stderr[start..];
        return Whitespace().Replace(text, " ").Trim();
    }

    /// <summary>
    /// An edge's availability failures are announced when its first and last failures fall in the window of one
    /// announced step that concerns it: a restart of the single API server or of etcd's only member concerns every edge
    /// to that API server, to etcd or through the HA endpoint (which has no other backend), and every edge whose client
    /// is that API server; a kubelet restart concerns the edges to that kubelet's API and the kubelet's own connection
    /// to the API server (the process is down; the step announces both). A pod's edge may also end with
    /// the prober finding the pod gone, replaced by the rollout the plan lists.
    /// </summary>
    private static bool Announced(JsonElement edge, IReadOnlyList<Window> windows)
    {
        var server = edge.GetProperty("server").GetString()!;
        var client = edge.GetProperty("client").GetString()!;
        bool Concerns(Window w) => w.Servers.Contains(server) || w.Clients.Contains(client);
        bool Inside(JsonElement failure) =>
            failure.ValueKind == JsonValueKind.Object && windows.Any(w => Concerns(w) && failure.GetProperty("time").GetDateTimeOffset() is var t && t >= w.From && t <= w.To);
        bool PodGone(JsonElement failure) =>
            edge.GetProperty("kind").GetString() == "pod" && failure.ValueKind == JsonValueKind.Object && failure.GetProperty("error").GetString()!.Contains(" is not running ", StringComparison.Ordinal);
        var first = edge.GetProperty("firstFailure");
        var last = edge.GetProperty("lastFailure");
        return Inside(first) && (Inside(last) || PodGone(last));
    }

    /// <summary>An announced step's time window and the servers and clients whose edges its disruption concerns.</summary>
    private sealed record Window(DateTimeOffset From, DateTimeOffset To, IReadOnlySet<string> Servers, IReadOnlySet<string> Clients);

    /// <summary>The servers and clients an announced step disrupts, from its id (…/restart-kubelet/NODE or a control-plane restart on cp-1).</summary>
    private static (IReadOnlySet<string> Servers, IReadOnlySet<string> Clients) Concerned(string id)
    {
        var node = id[(id.LastIndexOf('/') + 1)..];
        return id.Contains("/restart-kubelet/", StringComparison.Ordinal)
            ? (new HashSet<string> { $"{node}/kubelet" }, new HashSet<string> { $"{node}/kubelet" })
            : (new HashSet<string> { $"{node}/kube-apiserver", $"{node}/etcd", "endpoint" }, new HashSet<string> { $"{node}/kube-apiserver" });
    }

    /// <summary>From each announced step's start line to its finish line (or the run's end), widened by the lines' second resolution and a prober round.</summary>
    private static List<Window> Windows(IEnumerable<string> lines, IReadOnlySet<string> announced, DateTimeOffset end)
    {
        var windows = new List<Window>();
        var open = new Dictionary<string, DateTimeOffset>();
        static Window Of(string id, DateTimeOffset from, DateTimeOffset to)
        {
            var (servers, clients) = Concerned(id);
            return new Window(from, to, servers, clients);
        }
        foreach (var line in lines)
        {
            if (ProgressLine().Match(line) is not { Success: true } m || !announced.Contains(m.Groups["id"].Value)) continue;
            var at = DateTimeOffset.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var id = m.Groups["id"].Value;
            if (m.Groups["what"].Value == "start") open[id] = at;
            else if (open.Remove(id, out var from)) windows.Add(Of(id, from.AddSeconds(-1), at.AddSeconds(4)));
        }
        windows.AddRange(open.Select(o => Of(o.Key, o.Value.AddSeconds(-1), end)));
        return windows;
    }

    private static string Describe(JsonElement edge)
    {
        static string At(JsonElement f) => f.ValueKind == JsonValueKind.Object ? $"{f.GetProperty("time").GetDateTimeOffset():HH:mm:ss.f} {f.GetProperty("class").GetString()} \"{f.GetProperty("error").GetString()}\"" : "-";
        return $"{edge.GetProperty("edge").GetString()}: {edge.GetProperty("trustFailures").GetInt32()} trust / {edge.GetProperty("availabilityFailures").GetInt32()} availability of {edge.GetProperty("attempts").GetInt32()}, first {At(edge.GetProperty("firstFailure"))}, last {At(edge.GetProperty("lastFailure"))}";
    }

    private static async Task OpenSslAsync(string dir, string name, int days, bool isCa)
    {
        var run = await ProcessRun.RunAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", Path.Combine(dir, name + ".key"), "-out", Path.Combine(dir, name + ".crt"), "-days", days.ToString(CultureInfo.InvariantCulture), "-subj", "/CN=byo-" + name,
            "-addext", isCa ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=critical,CA:FALSE",
            "-addext", isCa ? "keyUsage=critical,keyCertSign,cRLSign" : "keyUsage=critical,digitalSignature"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\.\s+[A-Z]")]
    private static partial Regex SentenceEnds();

    [GeneratedRegex(@"^(?<at>\S+Z) (?<what>start|finished)\s+(?<id>\S+) on ")]
    private static partial Regex ProgressLine();
}
