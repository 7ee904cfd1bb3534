using System.Text.Json;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Tests.Rotation;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Cli;

/// <summary>start, complete, rollback and status on an inventory of node directories: option checks, refusals that change nothing, dry runs, status from the journals.</summary>
public class RotationCommandsTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    [Theory]
    [InlineData("start --mode fast", "--mode 'fast' must be rotate or renew.")]
    [InlineData("start --ca cluster,bogus", "--ca 'bogus' is not one of cluster, front-proxy, etcd.")]
    [InlineData("start --until switching", "--until 'switching' must be trusted or switched.")]
    [InlineData("start --etcd-ca-cert org.crt", "Pass --etcd-ca-cert and --etcd-ca-key together.")]
    [InlineData("start --ca cluster --front-proxy-ca-cert a.crt --front-proxy-ca-key a.key", "--front-proxy-ca-cert brings a front-proxy-ca but --ca 'cluster' does not rotate it")]
    [InlineData("start --mode renew --cluster-ca-cert a.crt --cluster-ca-key a.key", "--mode renew keeps each CA's key pair, so --cluster-ca-cert cannot be used with it.")]
    [InlineData("start --mode renew --cross-sign", "--cross-sign has no meaning with --mode renew")]
    [InlineData("start --ca-validity 10x", "--ca-validity '10x' is not a duration such as 10y or 87600h.")]
    [InlineData("start --kubelet-parallelism 0", "--kubelet-parallelism 0 must be at least 1.")]
    [InlineData("plan --workload-parallelism 0", "--workload-parallelism 0 must be at least 1.")]
    [InlineData("status -o yaml", "-o 'yaml' must be table or json.")]
    [InlineData("rollback --kubelet-parallelism 0", "--kubelet-parallelism 0 must be at least 1.")]
    [InlineData("complete --admin-kubeconfig-out /nonexistent-kcr/admin.conf", "The directory of --admin-kubeconfig-out /nonexistent-kcr/admin.conf does not exist")]
    public void Bad_options_are_refused_in_one_sentence_with_exit_code_2(string command, string message)
    {
        using var tmp = new TempDir();
        var inventory = tmp["inventory.yaml"];
        File.WriteAllText(inventory, "apiVersion: kube-ca-rotate/v1\nkind: Inventory\nnodes: []\n");
        var r = TestSupport.Cli.Run([.. command.Split(' '), "--inventory", inventory]);
        Assert.True(r.ExitCode == 2, r.Output);
        Assert.Contains(message, r.Output);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("status")]
    [InlineData("complete")]
    public void A_missing_inventory_is_named(string command)
    {
        var r = TestSupport.Cli.Run(command);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Pass --inventory FILE", r.Output);
        var missing = TestSupport.Cli.Run(command, "--inventory", "/nonexistent-kcr/inventory.yaml");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("The inventory /nonexistent-kcr/inventory.yaml does not exist", missing.Output);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("complete")]
    [InlineData("rollback")]
    public void Without_yes_on_a_console_that_cannot_ask_it_refuses_with_exit_code_2_and_changes_nothing(string command)
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var before = cluster.Hashes();
        var r = TestSupport.Cli.Run(command, "--inventory", inventory);
        Assert.True(r.ExitCode == 2, r.Output);
        Assert.Contains($"{command} changes the cluster and asks first, but this console cannot ask", r.Output);
        Assert.Contains("pass --yes", r.Output);
        Assert.Equal(before, cluster.Hashes());
    }

    [Fact]
    public void Start_dry_run_shows_every_step_of_all_three_cas_as_a_table_and_as_json_and_changes_nothing()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var before = cluster.Hashes();

        var table = TestSupport.Cli.Run("start", "--dry-run", "--inventory", inventory);
        Assert.True(table.ExitCode == 0, table.Output);
        Assert.True(table.Output.Contains("restart the kubelet on worker-1"), table.Output);
        Assert.Contains("The Kubernetes API is not used for this plan", table.Output);
        Assert.Contains("Nothing was changed.", table.Output);

        var json = TestSupport.Cli.Run("start", "--dry-run", "--inventory", inventory, "-o", "json");
        Assert.True(json.ExitCode == 0, json.Output);
        using var doc = JsonDocument.Parse(json.Output);
        Assert.True(doc.RootElement.GetProperty("dryRun").GetBoolean());
        var cas = doc.RootElement.GetProperty("cas").EnumerateArray().Select(c => c.GetProperty("ca").GetString()).Order().ToList();
        Assert.Equal(["Cluster", "Etcd", "FrontProxy"], cas);
        var steps = doc.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.NotEmpty(steps);
        Assert.All(steps, s => Assert.Contains(s.GetProperty("outcome").GetString(), new[] { "planned", "alreadyDone", "journaled" }));
        Assert.Contains(steps, s => s.GetProperty("outcome").GetString() == "planned");
        Assert.DoesNotContain("PRIVATE KEY", json.Output);

        Assert.Equal(before, cluster.Hashes());
    }

    [Fact]
    public void Start_tells_each_stage_before_its_first_step_opening_the_nodes_then_planning_before_the_table()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var r = TestSupport.Cli.Run("start", "--dry-run", "--inventory", inventory);
        Assert.True(r.ExitCode == 0, r.Output);
        var lines = r.Output.Split('\n');
        var opening = Array.FindIndex(lines, l => l.Contains(" prepare  opening the nodes and reaching the Kubernetes API"));
        var planning = Array.FindIndex(lines, l => l.Contains(" prepare  planning: reading every node's files and checking each step"));
        var note = Array.FindIndex(lines, l => l.Contains("The Kubernetes API is not used for this plan"));
        Assert.True(opening == 0, r.Output);
        Assert.True(planning == 1, r.Output);
        Assert.True(note > planning, r.Output);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ prepare  ", lines[0]);
    }

    [Theory]
    [InlineData("complete")]
    [InlineData("rollback")]
    public void Complete_and_rollback_tell_that_they_open_the_nodes_before_anything_else(string command)
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var r = TestSupport.Cli.Run(command, "--dry-run", "--inventory", inventory);
        // No rotation is under way, so each stops after opening the nodes, but the operator saw what it was doing.
        Assert.True(r.ExitCode != 0, r.Output);
        Assert.Contains(" prepare  opening the nodes and reaching the Kubernetes API", r.Output.Split('\n')[0]);
    }

    [Fact]
    public void Plan_rotates_all_three_cas_by_default()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var before = cluster.Hashes();
        var r = TestSupport.Cli.Run("plan", "--inventory", inventory, "-o", "json");
        Assert.True(r.ExitCode == 0, r.Output);
        using var doc = JsonDocument.Parse(r.Output);
        Assert.Equal(3, doc.RootElement.GetProperty("cas").GetArrayLength());
        Assert.Equal(before, cluster.Hashes());
    }

    [Fact]
    public async Task Status_shows_phase_progress_and_a_journal_copy_that_disagrees_in_table_and_json()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var oldCa = cluster.Bundle("cp-1", "/etc/kubernetes/pki/ca.crt").First!;
        var started = new DateTimeOffset(2026, 5, 1, 10, 0, 0, TimeSpan.Zero);
        var journal = new RotationJournal
        {
            RotationId = RotationJournal.NewRotationId(started), Generation = 1, Phase = RotationPhase.Trusting, Mode = RotationMode.Rotate,
            Cas = [new JournalCa(CaKind.Cluster, CertificateFacts.Sha256Fingerprint(oldCa), new string('A', 64))],
            StartedAt = started, UpdatedAt = started,
        };
        var controlPlanes = NodeDirectoryCluster.ControlPlaneNames.Select(n => (KubeCaRotate.Nodes.INodeAccess)cluster.Node(n)).ToList();
        await new JournalStore(controlPlanes, RotationPaths.Default).WriteAsync(journal);
        // cp-1 goes on alone: cp-2 keeps generation 1, as after a run stopped while writing the copies.
        journal = journal.WithStepFinished("trust/ca/stage/cp-1", started.AddSeconds(5)).WithStepFinished("trust/ca/bundle/cp-1", started.AddSeconds(9));
        await new JournalStore([controlPlanes[0]], RotationPaths.Default).WriteAsync(journal);
        var before = cluster.Hashes();

        var table = TestSupport.Cli.Run("status", "--inventory", inventory);
        Assert.True(table.ExitCode == 0, table.Output);
        Assert.Contains(journal.RotationId, table.Output);
        Assert.Contains("trusting", table.Output);
        Assert.Contains("2026-05-01 10:00:00Z", table.Output);
        Assert.Contains("cp-2 holds generation 1 of 3", table.Output);

        var json = TestSupport.Cli.Run("status", "--inventory", inventory, "-o", "json");
        Assert.True(json.ExitCode == 0, json.Output);
        using var doc = JsonDocument.Parse(json.Output);
        var root = doc.RootElement;
        Assert.Equal(journal.RotationId, root.GetProperty("rotationId").GetString());
        Assert.Equal("trusting", root.GetProperty("phase").GetString());
        Assert.Equal(2, root.GetProperty("finishedSteps").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("nextAction").GetString()));
        var copies = root.GetProperty("journalCopies").EnumerateArray().ToDictionary(c => c.GetProperty("node").GetString()!, c => c.GetProperty("state").GetString());
        Assert.Equal("current", copies["cp-1"]);
        Assert.Equal("stale", copies["cp-2"]);

        Assert.Equal(before, cluster.Hashes());
    }

    [Fact]
    public void Status_of_a_cluster_never_rotated_says_so()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = NodeDirectoryInventory.Write(cluster);
        var json = TestSupport.Cli.Run("status", "--inventory", inventory, "-o", "json");
        Assert.True(json.ExitCode == 0, json.Output);
        using var doc = JsonDocument.Parse(json.Output);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("rotationId").ValueKind);
        Assert.Equal("idle", doc.RootElement.GetProperty("phase").GetString());
    }
}
