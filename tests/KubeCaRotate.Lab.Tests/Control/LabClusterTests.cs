using System.Text.Json;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Control;

/// <summary>The lab behaves like a kubeadm cluster to clients nobody here wrote: kubectl, curl, etcdctl.</summary>
public class LabClusterTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    private static async Task<string> Kubectl(string kubeconfig, params string[] args) =>
        (await ProcessRun.RunAsync("kubectl", ["--kubeconfig", kubeconfig, .. args])).EnsureSuccess().Stdout;

    [Fact]
    public async Task Kubectl_works_against_each_api_server_and_the_endpoint()
    {
        var lab = fixture.Lab;
        var configs = lab.ControlPlanes.Select(fixture.KubeconfigFor).Prepend(lab.AdminKubeconfig).ToList();
        var generation = 1L;
        foreach (var config in configs)
        {
            var nodes = await Kubectl(config, "get", "nodes", "-o", "name");
            Assert.Equal(lab.Nodes.Select(n => "node/" + n.Name).Order(), nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

            var secrets = await Kubectl(config, "get", "secrets", "-A");
            Assert.Contains("app-token", secrets);
            Assert.Contains("kubernetes.io/service-account-token", secrets);

            var deployments = await Kubectl(config, "get", "deploy", "-A", "-o", "yaml");
            Assert.Contains("name: coredns", deployments);

            await Kubectl(config, "-n", "lab-1", "patch", "deployment", "app", "-p", "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"x\":\"" + generation + "\"}}}}}");
            generation++;
            var deployment = JsonDocument.Parse(await Kubectl(config, "-n", "lab-1", "get", "deployment", "app", "-o", "json")).RootElement;
            Assert.True(deployment.GetProperty("metadata").GetProperty("generation").GetInt64() >= generation);

            var secret = await Kubectl(config, "-n", "lab-2", "get", "secret", "app-token", "-o", "yaml");
            var applied = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", config, "apply", "-f", "-"], secret);
            applied.EnsureSuccess();
            Assert.Contains("secret/app-token", applied.Stdout);
        }
    }

    [Fact]
    public async Task Etcdctl_with_the_healthcheck_client_certificate_finds_every_member_healthy()
    {
        var lab = fixture.Lab;
        foreach (var node in lab.ControlPlanes)
        {
            var endpoints = string.Join(',', lab.ControlPlanes.Select(n => n.EtcdClientUrl));
            var run = await ProcessRun.RunAsync("etcdctl",
            [
                "--endpoints=" + endpoints,
                "--cacert=" + fixture.NodeFile(node.Name, "/etc/kubernetes/pki/etcd/ca.crt"),
                "--cert=" + fixture.NodeFile(node.Name, "/etc/kubernetes/pki/etcd/healthcheck-client.crt"),
                "--key=" + fixture.NodeFile(node.Name, "/etc/kubernetes/pki/etcd/healthcheck-client.key"),
                "endpoint", "health",
            ], environment: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
            run.EnsureSuccess();
            var output = run.Stdout + run.Stderr;
            foreach (var member in lab.ControlPlanes) Assert.Contains($"{member.EtcdClientUrl} is healthy", output);
        }
    }

    [Fact]
    public async Task Curl_reaches_readyz_with_a_kubeadm_client_certificate_and_a_foreign_one_is_refused()
    {
        var node = fixture.Lab.ControlPlanes.First();
        var ca = fixture.NodeFile(node.Name, "/etc/kubernetes/pki/ca.crt");
        var cert = fixture.NodeFile(node.Name, "/etc/kubernetes/pki/apiserver-kubelet-client.crt");
        var key = fixture.NodeFile(node.Name, "/etc/kubernetes/pki/apiserver-kubelet-client.key");
        var ok = await ProcessRun.RunAsync("curl", ["-sS", "--fail", "--cacert", ca, "--cert", cert, "--key", key, node.ApiServerUrl + "/readyz"]);
        ok.EnsureSuccess();
        Assert.Equal("ok", ok.Stdout.Trim());
        var nodes = await ProcessRun.RunAsync("curl", ["-sS", "--fail", "--cacert", ca, "--cert", cert, "--key", key, fixture.Lab.EndpointUrl + "/api/v1/nodes"]);
        nodes.EnsureSuccess();
        Assert.Contains("\"NodeList\"", nodes.Stdout);

        var foreignCa = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        var foreignKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var foreignCert = CertificateIssuer.System.Sign(CertificateTemplate.ForLeaf("kubernetes-admin", ["kubeadm:cluster-admins"], [ExtendedKeyUsage.ClientAuth], SubjectAltNames.None), foreignKey, foreignCa, TimeSpan.FromDays(1));
        var (fc, fk) = fixture.WritePair("foreign-admin", foreignCert, foreignKey);
        var refused = await ProcessRun.RunAsync("curl", ["-sS", "--fail", "--cacert", ca, "--cert", fc, "--key", fk, node.ApiServerUrl + "/api/v1/nodes"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.DoesNotContain("NodeList", refused.Stdout);
        var kubectlFile = Path.Combine(fixture.Dir, "foreign.conf");
        File.WriteAllBytes(kubectlFile, Kubeconfig.Create("kubernetes", node.ApiServerUrl, File.ReadAllBytes(ca), "kubernetes-admin",
            System.Text.Encoding.ASCII.GetBytes(foreignCert.ExportCertificatePem()), System.Text.Encoding.ASCII.GetBytes(foreignKey.ToPem())).ToBytes());
        var kubectl = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", kubectlFile, "get", "nodes"]);
        Assert.NotEqual(0, kubectl.ExitCode);
        Assert.Matches("Unauthorized|certificate|tls|EOF|connection reset|broken pipe", kubectl.Stderr); // refused at the authentication or the TLS layer
    }

    [Fact]
    public async Task Etcd_trusts_a_new_CA_only_after_a_restart()
    {
        var lab = fixture.Lab;
        var node = lab.ControlPlanes.Last();
        var caFile = fixture.NodeFile(node.Name, "/etc/kubernetes/pki/etcd/ca.crt");
        var newCa = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.EtcdCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        var key = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var client = CertificateIssuer.System.Sign(KubeadmCatalog.EtcdHealthcheckClient.Template(new PkiContext(new ClusterPkiSpec(), new NodePkiSpec(node.Name, System.Net.IPAddress.Parse(node.Address)))), key, newCa, TimeSpan.FromDays(1));
        var (cert, keyFile) = fixture.WritePair("new-etcd-client", client, key);
        var env = new Dictionary<string, string> { ["ETCDCTL_API"] = "3" };
        Task<ProcessRun> Health() => ProcessRun.RunAsync("etcdctl", ["--endpoints=" + node.EtcdClientUrl, "--cacert=" + caFile, "--cert=" + cert, "--key=" + keyFile, "--dial-timeout=3s", "--command-timeout=5s", "endpoint", "health"], environment: env);

        // Old and new CA on disk, no restart: the running member still trusts only what it loaded.
        File.WriteAllText(caFile, File.ReadAllText(caFile) + newCa.CertificatePem());
        Assert.NotEqual(0, (await Health()).ExitCode);

        // A content change of the manifest makes the node agent restart etcd, which then reads the bundle.
        var manifestPath = fixture.NodeFile(node.Name, "/etc/kubernetes/manifests/etcd.yaml");
        var pidFile = Path.Combine(lab.RunDir, node.Name, "pods", "etcd.pid");
        var pidBefore = File.ReadAllText(pidFile);
        File.SetLastWriteTimeUtc(manifestPath, DateTime.UtcNow);
        await Task.Delay(lab.FileCheckFrequency * 3);
        Assert.Equal(pidBefore, File.ReadAllText(pidFile));

        var manifest = StaticPodManifest.Parse(File.ReadAllBytes(manifestPath), manifestPath);
        manifest.SetAnnotation("kube-ca-rotate.io/restarted-at", DateTimeOffset.UtcNow.ToString("O"));
        File.WriteAllBytes(manifestPath, manifest.ToBytes());
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        ProcessRun health;
        while (true)
        {
            health = await Health();
            if (health.ExitCode == 0 || DateTimeOffset.UtcNow > deadline) break;
            await Task.Delay(500);
        }
        Assert.True(health.ExitCode == 0, health.Stdout + health.Stderr);
        Assert.NotEqual(pidBefore, File.ReadAllText(pidFile));
    }

    [Fact]
    public async Task Faults_switched_at_run_time_reach_every_api_server_and_spare_the_health_checks()
    {
        var lab = fixture.Lab;
        Assert.Equal(0, KubeCaRotate.Cli.CliApp.Run(["lab", "fault", "--dir", lab.Dir, "--unavailable-rate", "1"]));
        try
        {
            var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
            ProcessRun failed;
            do
            {
                failed = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", fixture.KubeconfigFor(lab.ControlPlanes.Last()), "get", "nodes", "--request-timeout=5s"]);
            }
            while (failed.ExitCode == 0 && DateTimeOffset.UtcNow < deadline);
            Assert.NotEqual(0, failed.ExitCode);
            Assert.Contains("unavailable", failed.Stderr, StringComparison.OrdinalIgnoreCase);
            var readyz = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.AdminKubeconfig, "get", "--raw", "/readyz"]);
            Assert.Equal("ok", readyz.EnsureSuccess().Stdout.Trim());
        }
        finally
        {
            Assert.Equal(0, KubeCaRotate.Cli.CliApp.Run(["lab", "fault", "--dir", lab.Dir, "--clear"]));
        }
        var deadline2 = DateTimeOffset.UtcNow.AddSeconds(20);
        ProcessRun ok;
        do
        {
            ok = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.AdminKubeconfig, "get", "nodes"]);
        }
        while (ok.ExitCode != 0 && DateTimeOffset.UtcNow < deadline2);
        ok.EnsureSuccess();
    }
}
