using System.Text.Json;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>
/// `start --cross-sign` on a lab, checked with clients nobody here wrote: between the switch and complete, kubectl with
/// the admin kubeconfig from before the rotation (trusting only the old cluster CA, with a client certificate of the old
/// CA) still works, curl trusting only the old CA accepts the API server, and etcdctl trusting only the old etcd CA
/// accepts the real etcd member: each server sends its new leaf and the cross-signed new CA from its files. After
/// complete the files hold the leaf alone, the same old-only clients are refused, and verify is clean. (That the
/// same kubectl check fails after a switch without --cross-sign is shown by the trust gate in CrossSignRotationTests,
/// which refuses that switch; a second rotation here would cost minutes.) It shares the single-control-plane lab of the
/// other edge cases and, like them, leaves it healthy.
/// </summary>
[Collection(RotationEdgeCaseLabCollection.Name)]
public sealed class CrossSignLabTests(RotationEdgeCaseLab lab)
{
    private static readonly KubeadmPaths Kubeadm = KubeadmPaths.Default;
    private static readonly RotationPaths Paths = RotationPaths.Default;

    private string NodeFile(string node, string path) => Path.Combine(lab.NodesDir, node) + path;

    private string Keep(string name, string from)
    {
        var file = Path.Combine(lab.Dir, name);
        File.Copy(from, file, overwrite: true);
        return file;
    }

    [RotationLabFact]
    public async Task Old_ca_clients_accept_the_new_chain_servers_between_switch_and_complete_and_complete_leaves_each_leaf_alone()
    {
        try
        {
            await CrossSignedRotationAsync();
        }
        catch
        {
            await lab.LeaveHealthyAsync();
            throw;
        }
    }

    private async Task CrossSignedRotationAsync()
    {
        var before = DateTimeOffset.UtcNow;
        var cp = lab.Lab.Nodes.Single(n => n.IsControlPlane);
        var oldAdmin = Keep("admin-before.conf", lab.Lab.AdminKubeconfig);
        var oldCa = Keep("old-ca.crt", NodeFile(cp.Name, Paths.CaCert(CaKind.Cluster)));
        var oldEtcdCa = Keep("old-etcd-ca.crt", NodeFile(cp.Name, Paths.CaCert(CaKind.Etcd)));
        // The old admin identity as files, for curl.
        var user = Kubeconfig.Parse(File.ReadAllBytes(oldAdmin), oldAdmin).CurrentUser!;
        var adminCert = Path.Combine(lab.Dir, "admin-before.crt");
        var adminKey = Path.Combine(lab.Dir, "admin-before.key");
        File.WriteAllBytes(adminCert, user.ClientCertificateData!);
        File.WriteAllBytes(adminKey, user.ClientKeyData!);
        File.SetUnixFileMode(adminKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var plan = await lab.RunAsync(["plan", "--inventory", lab.Inventory, "--cross-sign", "-o", "json"]);
        plan.EnsureExit(0);
        var planned = JsonDocument.Parse(plan.Stdout).RootElement.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("id").GetString() == $"switch/ca/reissue/{cp.Name}/apiserver");
        Assert.Contains("cross-signed", planned.GetProperty("name").GetString());

        (await lab.StartAsync("--cross-sign")).EnsureExit(0);

        // Every serving leaf is the new leaf followed by the cross-signed new CA.
        foreach (var leaf in KubeadmCatalog.Leaves)
        {
            var bundle = PemBundle.Parse(File.ReadAllText(NodeFile(cp.Name, Kubeadm.Pki(leaf.CertFile))), leaf.CertFile);
            Assert.Equal(leaf.Serves ? 2 : 1, bundle.Count);
        }

        // kubectl with the kubeconfig from before: it trusts only the old CA and presents the old CA's client certificate.
        var kubectl = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", oldAdmin, "get", "nodes", "-o", "name", "--request-timeout=60s"]);
        Assert.True(kubectl.ExitCode == 0, kubectl.Stderr);
        Assert.Equal(2, kubectl.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        // curl (OpenSSL) trusting only the old CA, at the API server itself and through the HA endpoint.
        foreach (var url in new[] { cp.ApiServerUrl, lab.Lab.EndpointUrl })
        {
            var curl = await ProcessRun.RunAsync("curl", ["-sS", "--fail", "--cacert", oldCa, "--cert", adminCert, "--key", adminKey, url + "/readyz"]);
            Assert.True(curl.ExitCode == 0, $"{url}: {curl.Stderr}");
        }
        // etcdctl trusting only the old etcd CA, against the real etcd member (its client certificate is the new one, which etcd trusts).
        var etcd = await EtcdHealthAsync(cp.EtcdClientUrl, oldEtcdCa);
        Assert.True(etcd.ExitCode == 0, etcd.Stdout + etcd.Stderr);

        (await lab.CompleteAsync()).EnsureExit(0);
        var after = DateTimeOffset.UtcNow;

        foreach (var leaf in KubeadmCatalog.Leaves)
        {
            var file = NodeFile(cp.Name, Kubeadm.Pki(leaf.CertFile));
            Assert.Equal(1, PemBundle.Parse(File.ReadAllText(file), file).Count);
            var ok = await ProcessRun.RunAsync("openssl", ["verify", "-CAfile", NodeFile(cp.Name, Paths.CaCert(leaf.Ca)), file]);
            Assert.True(ok.ExitCode == 0, ok.Stdout + ok.Stderr);
        }
        // The servers answer with the leaf alone now: the old-only clients are refused.
        var refused = await ProcessRun.RunAsync("curl", ["-sS", "--fail", "--cacert", oldCa, cp.ApiServerUrl + "/readyz"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.NotEqual(0, (await EtcdHealthAsync(cp.EtcdClientUrl, oldEtcdCa)).ExitCode);
        Assert.NotEqual(0, (await ProcessRun.RunAsync("kubectl", ["--kubeconfig", oldAdmin, "get", "nodes", "--request-timeout=10s"])).ExitCode);
        await lab.VerifyCleanAsync(TimeSpan.FromSeconds(60));

        // The prober saw no trust failure from before start to after complete (the single API server's restarts are availability).
        var report = await lab.ReportAsync(before, after);
        Assert.True(report.GetProperty("trustFailures").GetInt32() == 0, RotationLabFixture.Failures(report));
    }

    private Task<ProcessRun> EtcdHealthAsync(string endpoint, string caFile)
    {
        var cp = lab.Lab.Nodes.Single(n => n.IsControlPlane).Name;
        return ProcessRun.RunAsync("etcdctl", ["--endpoints", endpoint, "--cacert", caFile, "--cert", NodeFile(cp, Kubeadm.Pki("etcd/healthcheck-client.crt")),
            "--key", NodeFile(cp, Kubeadm.Pki("etcd/healthcheck-client.key")), "--command-timeout=30s", "endpoint", "health"],
            environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
    }
}
