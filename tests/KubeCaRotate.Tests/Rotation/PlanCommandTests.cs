using System.Text;
using System.Text.Json;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>`kube-ca-rotate plan` against an inventory of node directories: the steps with procedure rows, and not one byte changed.</summary>
public class PlanCommandTests(NodeDirectoryClusterFixture fixture) : IClassFixture<NodeDirectoryClusterFixture>
{
    private static string WriteInventory(NodeDirectoryCluster cluster)
    {
        var inventory = new Inventory
        {
            Nodes = cluster.NodeNames.Select(n => new InventoryNode
            {
                Name = n, Roles = [NodeDirectoryCluster.ControlPlaneNames.Contains(n) ? "control-plane" : "worker"],
                Access = new NodeAccessSpec { Local = new LocalAccessSpec { Root = Path.Combine("nodes", n) } }, RestartKubelet = ["true"],
            }).ToList(),
        };
        var file = Path.Combine(cluster.Root, "inventory.yaml");
        File.WriteAllText(file, inventory.ToYaml());
        return file;
    }

    [Fact]
    public void Plan_prints_every_step_with_its_procedure_rows_as_a_table_and_as_json_and_changes_nothing()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = WriteInventory(cluster);
        var before = cluster.Hashes();

        var table = TestSupport.Cli.Run("plan", "--inventory", inventory);
        Assert.True(table.ExitCode == 0, table.Output);
        Assert.Contains("trust old + new in ca.crt on cp-2", table.Output);
        Assert.Contains("restart the kubelet on worker-1", table.Output);
        Assert.Contains("Nothing was changed.", table.Output);

        var json = TestSupport.Cli.Run("plan", "--inventory", inventory, "-o", "json");
        Assert.True(json.ExitCode == 0, json.Output);
        using var doc = JsonDocument.Parse(json.Output);
        var steps = doc.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal("stage/cp-1", steps[0].GetProperty("id").GetString());
        Assert.All(steps, s => Assert.NotEqual(0, s.GetProperty("procedureRows").GetArrayLength()));
        Assert.Equal("switched", doc.RootElement.GetProperty("phase").GetString());
        Assert.DoesNotContain("PRIVATE KEY", json.Output);

        Assert.Equal(before, cluster.Hashes());
    }

    [Fact]
    public void A_brought_ca_whose_key_does_not_match_is_refused_in_one_sentence_with_exit_code_2()
    {
        using var cluster = fixture.Template.Copy();
        var inventory = WriteInventory(cluster);
        var ca = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
        var cert = Path.Combine(cluster.Root, "org-ca.crt");
        var key = Path.Combine(cluster.Root, "org-ca.key");
        File.WriteAllText(cert, ca.CertificatePem());
        File.WriteAllText(key, PrivateKey.Generate(KeyAlgorithm.EcdsaP256).ToPem(), Encoding.ASCII);
        var before = cluster.Hashes();
        var r = TestSupport.Cli.Run("plan", "--inventory", inventory, "--cluster-ca-cert", cert, "--cluster-ca-key", key);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"The key {key} does not belong to the new CA {cert}", r.Output);
        Assert.Equal(before, cluster.Hashes());
    }
}
