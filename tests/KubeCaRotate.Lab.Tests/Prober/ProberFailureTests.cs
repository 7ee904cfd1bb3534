using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Prober;

/// <summary>
/// The prober can fail, and fails in the right class on the right edges: a stopped API server is an availability
/// failure of its own edges only (the HA endpoint routes around it), a cluster CA swapped by hand without
/// distributing trust is a trust failure of every client of the API servers and of nothing that talks to etcd, a new
/// front-proxy CA is a trust failure of exactly the API servers' edges to the aggregated API server until its pods are
/// restarted. All disturb the lab, so they run in order in one test on a lab of their own.
/// </summary>
public class ProberFailureTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    private const string ApiServerManifest = "/etc/kubernetes/manifests/kube-apiserver.yaml";

    [Fact]
    public async Task A_stopped_api_server_is_an_availability_failure_and_an_unshared_new_ca_a_trust_failure_on_exactly_the_edges_that_must_break()
    {
        await StoppingOneApiServerAsync();
        await ChangingTheFrontProxyCaAsync();
        await SwappingTheClusterCaAsync();
    }

    private async Task StoppingOneApiServerAsync()
    {
        var lab = fixture.Lab;
        var watch = new ProbeWatch(lab);
        await watch.RoundsAsync(DateTimeOffset.UtcNow, rounds: 1);
        var manifest = fixture.NodeFile("cp-2", ApiServerManifest);
        var aside = fixture.NodeFile("cp-2", "/etc/kubernetes/kube-apiserver.yaml.stopped");
        var stoppedAt = DateTimeOffset.UtcNow;
        File.Move(manifest, aside); // as an operator stops a static pod: the kubelet stops what has no manifest
        const string stopped = "admin->cp-2/kube-apiserver";
        DateTimeOffset firstFailure = default;
        await ProbeWatch.UntilAsync("a failure on " + stopped, () =>
            watch.Since(stoppedAt).FirstOrDefault(r => r.Edge == stopped && !r.Ok) is { } f && (firstFailure = f.Time) != default);
        // Once the load balancer has taken cp-2 out, the endpoint answers again every time.
        await ProbeWatch.UntilAsync("three successes in a row on the HA endpoint", () =>
            watch.Since(firstFailure).Where(r => r.Kind == EdgeKind.Endpoint).TakeLast(3) is var last && last.Count() == 3 && last.All(r => r.Ok));

        var since = DateTimeOffset.UtcNow;
        var window = await watch.RoundsAsync(since, rounds: 4);
        var until = window.Max(r => r.Time).AddTicks(1);
        var report = await ReportRun.JsonAsync(lab.Dir, since, until);
        var raw = ReportRun.RawLines(lab.Dir, since, until);
        Assert.Equal(0, report.GetProperty("endpointFailures").GetInt32());
        Assert.Equal(0, report.GetProperty("trustFailures").GetInt32());
        Assert.Equal(raw.Count, report.GetProperty("attempts").GetInt32());
        Assert.Equal(raw.Count(l => l.TryGetProperty("class", out var c) && c.GetString() == "availability"), report.GetProperty("availabilityFailures").GetInt32());
        var cp2 = report.GetProperty("edges").EnumerateArray().Single(e => e.GetProperty("edge").GetString() == stopped);
        Assert.Equal(raw.Count(l => l.GetProperty("edge").GetString() == stopped), cp2.GetProperty("availabilityFailures").GetInt32());
        Assert.Equal(0, cp2.GetProperty("ok").GetInt32());
        Assert.Contains("refused", cp2.GetProperty("lastFailure").GetProperty("error").GetString());
        // Nothing but cp-2's API server is down: every other edge stays clean.
        Assert.All(window.Where(r => r.Server != "cp-2/kube-apiserver"), r => Assert.True(r.Ok, $"{r.Edge}: {r.Error}"));

        File.Move(aside, manifest);
        await ProbeWatch.UntilAsync(stopped + " to answer again", () => watch.Since(DateTimeOffset.UtcNow.AddSeconds(-1)).Any(r => r.Edge == stopped && r.Ok));
        var trust = watch.Since(stoppedAt).Where(r => r.Class == FailureClass.Trust).ToList();
        Assert.True(trust.Count == 0, $"Stopping and starting an API server recorded trust failures:\n{ProbeWatch.Describe(trust)}");
    }

    private async Task ChangingTheFrontProxyCaAsync()
    {
        var lab = fixture.Lab;
        var watch = new ProbeWatch(lab);
        var controlPlanes = lab.ControlPlanes.Count();
        await ProbeWatch.UntilAsync("every API server's edge to the aggregated API server to succeed", () =>
            watch.Since(DateTimeOffset.UtcNow.AddSeconds(-3)).Where(r => r.Kind == EdgeKind.Aggregator && r.Ok).Select(r => r.Client).Distinct().Count() == controlPlanes);

        // A new front-proxy CA and client certificate on every control plane; the aggregated API server is not told.
        var issuer = CertificateIssuer.System;
        var newCa = issuer.NewCertificateAuthority(KubeadmCatalog.FrontProxyCa, lab.Algorithm, TimeSpan.FromDays(365));
        foreach (var node in lab.ControlPlanes)
        {
            Write(fixture.NodeFile(node.Name, "/etc/kubernetes/pki/front-proxy-ca.crt"), newCa.CertificatePem(), secret: false);
            Write(fixture.NodeFile(node.Name, "/etc/kubernetes/pki/front-proxy-ca.key"), newCa.Key.ToPem(), secret: true);
            var certFile = fixture.NodeFile(node.Name, "/etc/kubernetes/pki/front-proxy-client.crt");
            using var key = PrivateKey.FromPem(File.ReadAllText(fixture.NodeFile(node.Name, "/etc/kubernetes/pki/front-proxy-client.key")), "front-proxy-client.key");
            var reissued = issuer.Reissue(X509Certificate2.CreateFromPem(File.ReadAllText(certFile)), key, newCa, TimeSpan.FromDays(365));
            Write(certFile, reissued.ExportCertificatePem() + "\n", secret: false);
        }
        var changed = DateTimeOffset.UtcNow;
        await ProbeWatch.UntilAsync("every API server's edge to the aggregated API server to fail", () =>
            watch.Since(changed).Where(r => r.Kind == EdgeKind.Aggregator && !r.Ok).Select(r => r.Client).Distinct().Count() == controlPlanes);

        var since = DateTimeOffset.UtcNow;
        var window = await watch.RoundsAsync(since, rounds: 3);
        var broken = window.Where(r => r.Kind == EdgeKind.Aggregator).ToList();
        Assert.Equal(controlPlanes, broken.Select(r => r.Edge).Distinct().Count());
        Assert.All(broken, r => Assert.True(r is { Ok: false, Class: FailureClass.Trust, Status: 401 }, $"{r.Edge} should fail on trust but recorded ok={r.Ok} {r.Class} {r.Status}: {r.Error}"));
        Assert.All(window.Where(r => r.Kind != EdgeKind.Aggregator), r => Assert.True(r.Ok, $"{r.Edge} must not break with the front-proxy CA but recorded {r.Class}: {r.Error}"));

        // New pods read extension-apiserver-authentication again, where the API servers have published the new CA.
        var restart = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.AdminKubeconfig, "rollout", "restart", "deployment/lab-aggregator", "-n", "kube-system"]);
        restart.EnsureSuccess();
        (await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.AdminKubeconfig, "rollout", "status", "deployment/lab-aggregator", "-n", "kube-system", "--timeout=120s"])).EnsureSuccess();
        await ProbeWatch.UntilAsync("every API server's edge to the aggregated API server to succeed again", () =>
            watch.Since(DateTimeOffset.UtcNow.AddSeconds(-3)).Where(r => r.Kind == EdgeKind.Aggregator && r.Ok).Select(r => r.Client).Distinct().Count() == controlPlanes);
    }

    private async Task SwappingTheClusterCaAsync()
    {
        var lab = fixture.Lab;
        var watch = new ProbeWatch(lab);
        var issuer = CertificateIssuer.System;
        var newCa = issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, lab.Algorithm, TimeSpan.FromDays(365));
        var hashes = new Dictionary<string, string>();
        foreach (var node in lab.ControlPlanes)
        {
            // New CA and a re-issued API server certificate; nobody else is told (no trust distribution).
            Write(fixture.NodeFile(node.Name, "/etc/kubernetes/pki/ca.crt"), newCa.CertificatePem(), secret: false);
            Write(fixture.NodeFile(node.Name, "/etc/kubernetes/pki/ca.key"), newCa.Key.ToPem(), secret: true);
            var certFile = fixture.NodeFile(node.Name, "/etc/kubernetes/pki/apiserver.crt");
            using var key = PrivateKey.FromPem(File.ReadAllText(fixture.NodeFile(node.Name, "/etc/kubernetes/pki/apiserver.key")), "apiserver.key");
            var reissued = issuer.Reissue(X509Certificate2.CreateFromPem(File.ReadAllText(certFile)), key, newCa, TimeSpan.FromDays(365));
            Write(certFile, reissued.ExportCertificatePem() + "\n", secret: false);
            // Restart the API server as kubeadm users do: a changed annotation changes the pod's hash.
            var manifestFile = fixture.NodeFile(node.Name, ApiServerManifest);
            var manifest = StaticPodManifest.Parse(File.ReadAllBytes(manifestFile), manifestFile);
            manifest.SetAnnotation("kube-ca-rotate.test/restarted-at", DateTimeOffset.UtcNow.ToString("O"));
            var bytes = manifest.ToBytes();
            File.WriteAllBytes(manifestFile, bytes);
            hashes[node.Name] = Convert.ToHexString(SHA256.HashData(bytes));
        }
        await ProbeWatch.UntilAsync("every API server to restart with its new manifest", () => lab.ControlPlanes.All(n =>
            File.Exists(Path.Combine(lab.RunDir, n.Name, "pods", "kube-apiserver.hash"))
            && File.ReadAllText(Path.Combine(lab.RunDir, n.Name, "pods", "kube-apiserver.hash")) == hashes[n.Name]));
        var restarted = DateTimeOffset.UtcNow;
        await ProbeWatch.UntilAsync("every API server to serve again", () =>
            lab.ControlPlanes.All(n => watch.Since(restarted).Any(r => r.Edge == $"admin->{n.Name}/kube-apiserver" && r.Class == FailureClass.Trust)));

        var since = DateTimeOffset.UtcNow;
        var window = await watch.RoundsAsync(since, rounds: 3);
        var until = window.Max(r => r.Time).AddTicks(1);

        // Every client that trusts only the old CA now rejects the API servers' new certificate.
        var mustBreak = window.Where(r => r.Kind is EdgeKind.Admin or EdgeKind.Endpoint or EdgeKind.Kubelet or EdgeKind.Pod or EdgeKind.ControllerManager or EdgeKind.Scheduler).ToList();
        Assert.Contains(mustBreak, r => r.Kind == EdgeKind.Endpoint);
        Assert.Equal(lab.ControlPlanes.Count(), mustBreak.Where(r => r.Kind == EdgeKind.Admin).Select(r => r.Edge).Distinct().Count());
        Assert.All(mustBreak, r => Assert.True(r is { Ok: false, Class: FailureClass.Trust }, $"{r.Edge} should fail on trust but recorded ok={r.Ok} {r.Class}: {r.Error}"));
        Assert.All(mustBreak.Where(r => r.Kind is EdgeKind.Admin or EdgeKind.Endpoint), r => Assert.Contains("does not chain to a CA", r.Error));

        // Nothing that talks to etcd is touched by the cluster CA, nor the API servers' calls to the kubelets of workers (their CA is unchanged).
        var mustHold = window.Where(r => r.Kind is EdgeKind.EtcdClient or EdgeKind.EtcdPeer
            || (r.Kind == EdgeKind.KubeletApi && r.Server.StartsWith("worker-", StringComparison.Ordinal))).ToList();
        Assert.Equal(lab.ControlPlanes.Count() * lab.ControlPlanes.Count(), mustHold.Where(r => r.Kind is EdgeKind.EtcdClient or EdgeKind.EtcdPeer).Select(r => r.Edge).Distinct().Count());
        Assert.All(mustHold, r => Assert.True(r.Ok, $"{r.Edge} must not break but recorded {r.Class}: {r.Error}"));

        var report = await ReportRun.JsonAsync(lab.Dir, since, until);
        var raw = ReportRun.RawLines(lab.Dir, since, until);
        Assert.Equal(raw.Count(l => l.TryGetProperty("class", out var c) && c.GetString() == "trust"), report.GetProperty("trustFailures").GetInt32());
        Assert.True(report.GetProperty("trustFailures").GetInt32() >= mustBreak.Count);
        Assert.Equal(0, report.GetProperty("endpointFailures").GetInt32());
    }

    private static void Write(string path, string content, bool secret)
    {
        var temp = path + ".new";
        File.WriteAllText(temp, content);
        if (secret) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }
}
