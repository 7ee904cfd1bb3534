using KubeCaRotate.Cluster;
using KubeCaRotate.Pki;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Tests.Trust;

public sealed class CaScannerTests
{
    [Fact]
    public void Every_namespace_is_one_place_of_the_cluster_CA_in_order_and_a_certificate_repeated_in_one_field_counts_once()
    {
        var c = new SyntheticCluster(namespaces: 5);
        var twice = c.Shared.Cluster.CertificatePem() + c.Shared.Cluster.CertificatePem();
        var extra = new ObjectCaData(new ObjectRef("ConfigMap", "ns-3", "bundle"), "data[ca.crt]", twice, null);
        var snapshot = c.Snapshot with { Objects = c.Snapshot.Objects! with { CaData = [.. c.Snapshot.Objects!.CaData, extra] } };

        var scan = new CaScanner().Scan(snapshot);

        var cluster = scan.Find(CertificateFacts.Sha256Fingerprint(c.Shared.Cluster.Certificate))!;
        var rootCaPlaces = cluster.Places.Where(p => p.Location.EndsWith("/kube-root-ca.crt data[ca.crt]", StringComparison.Ordinal)).Select(p => p.Location).ToList();
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"ConfigMap ns-{i}/kube-root-ca.crt data[ca.crt]"), rootCaPlaces);
        Assert.Single(cluster.Places, p => p.Location == "ConfigMap ns-3/bundle data[ca.crt]");
        Assert.Equal(cluster.Places.Count, cluster.Places.Distinct().Count());
    }
}
