using System.Text;
using System.Text.Json;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// The whole procedure on a 3 + 2 lab, run as an operator runs it (the real executable), checked by the prober and by
/// clients nobody here wrote (openssl, kubectl, etcdctl). Every test leaves a healthy cluster (completed or rolled back),
/// so they share one lab in any order; a test that failed half-way is rolled back before the next one starts.
/// </summary>
[Collection(RotationLabCollection.Name)]
public class RotationLabTests(RotationLab lab) : IAsyncLifetime
{
    public Task InitializeAsync() => lab.LeaveHealthyAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;
    private static readonly RotationPaths Paths = RotationPaths.Default;

    private string NodeFile(string node, string path) => Path.Combine(lab.Dir, "nodes", node) + path;

    /// <summary>
    /// The main proof, in one rotation (a full rotation of a 3 + 2 lab takes minutes, so the kill trials and the end-state
    /// checks share it): `start` and then `complete`, each killed with SIGKILL at random points — at least 20 kills in all
    /// — and run again until it finishes. After every kill the journal names the same new CAs. With the prober running from
    /// before the first start to after the last complete, there is no trust failure and no failure through the HA
    /// endpoint; then every leaf verifies against the new CA alone (openssl), the old admin kubeconfig is refused and the
    /// written one accepted (kubectl), every etcd member is healthy (etcdctl), verify is clean and scan finds the old CAs
    /// nowhere but in the backup.
    /// </summary>
    [RotationLabFact]
    public async Task Start_and_complete_killed_at_twenty_points_finish_with_the_same_new_cas_no_failed_connection_and_only_the_new_cas_left()
    {
        var before = DateTimeOffset.UtcNow;
        var earlier = (await lab.StatusAsync()).GetProperty("rotationId") is { ValueKind: JsonValueKind.String } id ? id.GetString() : null; // an earlier test's closed rotation
        var oldAdmin = Path.Combine(lab.Dir, "admin-before.conf");
        File.Copy(lab.Lab.AdminKubeconfig, oldAdmin, overwrite: true);
        var oldCas = KubeadmCatalog.CertificateAuthorities.ToDictionary(c => c.Kind, c =>
        {
            var file = Path.Combine(lab.Dir, $"old-{c.Name}.crt");
            File.Copy(NodeFile("cp-1", Paths.CaCert(c.Kind)), file, overwrite: true);
            return file;
        });

        var random = new Random(20261129);
        Dictionary<string, string>? fingerprints = null;
        var kills = new List<string>();
        ToolRun? completed = null;
        foreach (var command in new[] { "start", "complete" })
        {
            for (var trial = 0; ; trial++)
            {
                // Kill points spread over the run. Even trials: a time from the start (up to 12 s in later trials), which
                // lands in the preparation (lock, planning, reading the cluster) as often as in a step. Odd trials: a moment
                // inside the steps, 0-2 s after the Nth step this run applied (N in 1..6), so every such kill lands past
                // the steps earlier runs journaled: in a file write, a wait for a restart or a rollout, or a journal write.
                var kill = kills.Count < 24 && trial < 12;
                var byStep = trial % 2 == 1;
                var delay = TimeSpan.FromMilliseconds(byStep ? random.Next(0, 2000) : random.Next(300, 1500 + 1000 * Math.Min(trial, 10)));
                var afterApplied = random.Next(1, 7);
                var applied = 0;
                var lastStep = "";
                var run = await lab.RunAsync([command, "--inventory", lab.Inventory, "--yes", .. command == "complete" ? new[] { "-o", "json" } : []],
                    killAfter: kill && !byStep ? delay : null,
                    onLine: line => { if (line.Contains(" start ", StringComparison.Ordinal)) lastStep = line.Trim(); },
                    killAfterLine: kill && byStep ? line => line.Contains(" finished ", StringComparison.Ordinal) && line.Contains(": applied", StringComparison.Ordinal) && ++applied == afterApplied ? delay : null : null);
                var point = byStep ? $"{delay.TotalSeconds:0.0} s after its {afterApplied}th applied step" : $"after {delay.TotalSeconds:0.0} s";
                if (run.ExitCode is null) kills.Add($"{command} {point} ({(lastStep.Length > 0 ? lastStep : "before its first step")})");
                else run.EnsureExit(0);
                var status = await lab.StatusAsync();
                if (status.GetProperty("rotationId") is { ValueKind: JsonValueKind.String } rotation && rotation.GetString() != earlier && status.GetProperty("cas").GetArrayLength() > 0)
                {
                    var now = status.GetProperty("cas").EnumerateArray().ToDictionary(c => c.GetProperty("ca").GetString()!, c => c.GetProperty("newSha256").GetString()!);
                    if (fingerprints is null) fingerprints = now;
                    else Assert.Equal(fingerprints, now); // the same new CAs after every kill
                }
                if (run.ExitCode != 0) continue;
                if (command == "complete") completed = run;
                break;
            }
        }
        Assert.True(kills.Count >= 20, $"only {kills.Count} kills landed before the runs finished: {string.Join("; ", kills)}");
        var outcome = JsonDocument.Parse(completed!.Stdout).RootElement;
        Assert.Equal("completed", outcome.GetProperty("phase").GetString());
        Assert.Equal("completed", (await lab.StatusAsync()).GetProperty("phase").GetString());
        var after = DateTimeOffset.UtcNow;

        // The prober, from before start to after complete: no trust failure and no failure through the HA endpoint.
        var report = await lab.ReportAsync(before, after);
        Assert.True(report.GetProperty("trustFailures").GetInt32() == 0 && report.GetProperty("endpointFailures").GetInt32() == 0,
            RotationLabFixture.Failures(report) + "\nkills: " + string.Join("; ", kills));

        // The CA files hold the new CAs the journal named after every kill, alone.
        foreach (var (ca, sha) in fingerprints!)
        {
            var kind = Enum.Parse<CaKind>(ca, ignoreCase: true);
            var file = NodeFile("cp-2", Paths.CaCert(kind));
            Assert.Equal([sha], PemBundle.Parse(File.ReadAllText(file), file).Certificates.Select(CertificateFacts.Sha256Fingerprint));
        }

        // Every leaf on every control plane passes openssl verify against the new CA file and fails against the old CA.
        foreach (var cp in new[] { "cp-1", "cp-2", "cp-3" })
            foreach (var leaf in KubeadmCatalog.Leaves)
            {
                var caFile = NodeFile(cp, Paths.CaCert(leaf.Ca));
                Assert.Single(PemBundle.Parse(File.ReadAllText(caFile), caFile).Certificates);
                var leafFile = NodeFile(cp, Kubeadm.Pki(leaf.CertFile));
                var ok = await ProcessRun.RunAsync("openssl", ["verify", "-CAfile", caFile, leafFile]);
                Assert.True(ok.ExitCode == 0, $"{cp} {leaf.CertFile}: {ok.Stdout}{ok.Stderr}");
                var old = await ProcessRun.RunAsync("openssl", ["verify", "-CAfile", oldCas[leaf.Ca], leafFile]);
                Assert.NotEqual(0, old.ExitCode);
            }

        // kubectl: the admin kubeconfig from before is refused; the one complete wrote is accepted.
        var written = outcome.GetProperty("adminKubeconfigFile").GetString()!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(written));
        var refused = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", oldAdmin, "get", "nodes", "--request-timeout=10s"]);
        Assert.NotEqual(0, refused.ExitCode);
        var accepted = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", written, "get", "nodes", "-o", "name"]);
        Assert.True(accepted.ExitCode == 0, accepted.Stderr);
        Assert.Equal(5, accepted.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // etcdctl with the new healthcheck-client certificate finds every member healthy.
        var endpoints = string.Join(',', lab.Lab.Nodes.Where(n => n.IsControlPlane).Select(n => $"https://{n.Address}:{n.EtcdClientPort}"));
        var health = await ProcessRun.RunAsync("etcdctl", ["--endpoints", endpoints, "--cacert", NodeFile("cp-1", Kubeadm.EtcdCaCert),
            "--cert", NodeFile("cp-1", Kubeadm.Pki("etcd/healthcheck-client.crt")), "--key", NodeFile("cp-1", Kubeadm.Pki("etcd/healthcheck-client.key")), "endpoint", "health"],
            environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.True(health.ExitCode == 0, health.Stdout + health.Stderr);
        Assert.Equal(3, (health.Stdout + health.Stderr).Split('\n').Count(l => l.Contains("is healthy", StringComparison.Ordinal)));

        // verify is clean; scan finds the old CAs nowhere (they are kept only in the backup).
        var verify = await lab.RunAsync(["verify", "--inventory", lab.Inventory]);
        verify.EnsureExit(0);
        var scan = await lab.RunAsync(["scan", "--inventory", lab.Inventory, "-o", "json"]);
        scan.EnsureExit(0);
        var oldFingerprints = oldCas.Values.Select(f => CertificateFacts.Sha256Fingerprint(PemBundle.Parse(File.ReadAllText(f), f).First!)).ToHashSet();
        var found = JsonDocument.Parse(scan.Stdout).RootElement.GetProperty("authorities").EnumerateArray()
            .Where(a => oldFingerprints.Contains(a.GetProperty("ca").GetProperty("sha256").GetString()!)).ToList();
        Assert.True(found.Count == 0, "the old CAs are still found: " + string.Join(", ", found.Select(f => f.ToString())));
        var rotationId = outcome.GetProperty("rotationId").GetString()!;
        foreach (var (kind, file) in oldCas)
            Assert.Equal(File.ReadAllText(file), File.ReadAllText(NodeFile("cp-1", Paths.BackupCopy(rotationId, Paths.CaCert(kind)))));
        Assert.StartsWith("sha256:", outcome.GetProperty("discoveryTokenCaCertHash").GetString());
    }

    /// <summary>
    /// Rollback from the switch on the HA control plane — every leaf already issued by the new CA, every kubelet on a new
    /// client certificate — restores every file byte for byte with no failed connection on the way, and verify is clean.
    /// (Rollback from the trust phase is shown on the single-control-plane lab, in RotationEdgeCaseLabTests.)
    /// </summary>
    [RotationLabFact]
    public async Task Rollback_from_switched_restores_every_file_byte_for_byte_with_no_failed_connection()
    {
        var before = DateTimeOffset.UtcNow;
        var pristine = lab.NodeFileHashes(withRotationState: false);
        (await lab.StartAsync()).EnsureExit(0);
        Assert.Equal("switched", (await lab.StatusAsync()).GetProperty("phase").GetString());
        Assert.NotEqual(pristine, lab.NodeFileHashes(withRotationState: false));
        (await lab.RollbackAsync()).EnsureExit(0);
        var after = DateTimeOffset.UtcNow;
        Assert.Equal("rolled-back", (await lab.StatusAsync()).GetProperty("phase").GetString());
        Assert.Equal(pristine, lab.NodeFileHashes(withRotationState: false));
        var report = await lab.ReportAsync(before, after);
        Assert.True(report.GetProperty("trustFailures").GetInt32() == 0 && report.GetProperty("endpointFailures").GetInt32() == 0, RotationLabFixture.Failures(report));
        (await lab.RunAsync(["verify", "--inventory", lab.Inventory])).EnsureExit(0);
    }
}

[CollectionDefinition(Name)]
public sealed class RotationLabCollection : ICollectionFixture<RotationLab>
{
    public const string Name = "rotation lab";
}
