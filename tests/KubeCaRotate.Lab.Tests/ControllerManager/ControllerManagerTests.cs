using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.ControllerManager;

[Collection("workload lab")]
public sealed class ControllerManagerTests(WorkloadLab fixture)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<Dictionary<string, string>> RootCaConfigMapsAsync()
    {
        var result = new Dictionary<string, string>();
        foreach (var cm in await fixture.Admin.ListAsync("/api/v1/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt", None))
            result[WorkloadPods.Namespace(cm)] = WorkloadPods.Str(cm["data"]?["ca.crt"]);
        return result;
    }

    private async Task<List<string>> TokenSecretCasAsync() =>
        (await fixture.Admin.ListAsync("/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token", None))
            .Select(s => Encoding.UTF8.GetString(Convert.FromBase64String(WorkloadPods.Str(s["data"]?["ca.crt"])))).ToList();

    [Fact]
    public async Task RootCaIsPublishedFromTheFileReadAtStartOnly()
    {
        var cps = fixture.Lab.ControlPlanes.ToList();
        var caPath = KubeadmPaths.Default.CaCert;
        var original = await File.ReadAllTextAsync(fixture.NodeFile(cps[0], caPath));
        var namespaces = (await fixture.Admin.ListAsync("/api/v1/namespaces", None)).Select(WorkloadPods.Name).ToList();
        await WorkloadLab.EventuallyAsync(async () => (await RootCaConfigMapsAsync()) is var cms && namespaces.All(n => cms.GetValueOrDefault(n) == original),
            "every namespace has kube-root-ca.crt with the CA of --root-ca-file");
        await fixture.Admin.CreateAsync("/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "late" } }, None);
        await WorkloadLab.EventuallyAsync(async () => (await RootCaConfigMapsAsync()).GetValueOrDefault("late") == original, "a new namespace gets kube-root-ca.crt");

        // The signer must keep a single-certificate file while ca.crt becomes a bundle (the manual-rotation page's workaround).
        var before = await fixture.LeaseHolderAsync("kube-controller-manager");
        var pids = fixture.ControllerManagerPids();
        foreach (var cp in cps)
        {
            File.Copy(fixture.NodeFile(cp, caPath), fixture.NodeFile(cp, "/etc/kubernetes/pki/ca-signer.crt"), overwrite: true);
            fixture.EditControllerManagerManifest(cp, m => m.SetFlag("cluster-signing-cert-file", "/etc/kubernetes/pki/ca-signer.crt"));
        }
        await WorkloadLab.EventuallyAsync(async () => await fixture.LeaseHolderAsync("kube-controller-manager") is { Length: > 0 } h && h != before,
            "a restarted controller-manager leads");
        // Every instance must have restarted before the bundle is written: one starting late would load the bundle.
        await fixture.WaitControllerManagersRestartedAsync(pids);

        // A bundle in --root-ca-file is not seen while the controller-manager runs ...
        var extra = CertificateIssuer.System.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "extra", "extra", "extra-ca", "test"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        var bundle = original.TrimEnd() + "\n" + extra.CertificatePem();
        foreach (var cp in cps)
            await File.WriteAllTextAsync(fixture.NodeFile(cp, caPath), bundle);
        await Task.Delay(TimeSpan.FromSeconds(4)); // several sync periods
        Assert.All((await RootCaConfigMapsAsync()).Values, v => Assert.Equal(original, v));
        Assert.All(await TokenSecretCasAsync(), v => Assert.Equal(original, v));

        // ... and is published after a restart (a manifest annotation change), to ConfigMaps and token Secrets alike.
        foreach (var cp in cps)
            fixture.EditControllerManagerManifest(cp, m => m.SetAnnotation("kube-ca-rotate.test/restarted", DateTime.UtcNow.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await WorkloadLab.EventuallyAsync(async () => (await RootCaConfigMapsAsync()) is var cms && cms.Count >= namespaces.Count + 1 && cms.Values.All(v => v == bundle),
            "every kube-root-ca.crt holds the bundle after the restart");
        await WorkloadLab.EventuallyAsync(async () => (await TokenSecretCasAsync()) is { Count: > 0 } cas && cas.All(v => v == bundle),
            "every service-account token Secret's ca.crt holds the bundle");
    }

    [Fact]
    public async Task KubeletClientCsrIsApprovedAndSignedByTheCurrentSigningCa()
    {
        var worker = fixture.Lab.Workers.First();
        // The CSR is posted as the node, with its current kubelet client certificate (a renewal).
        var kubeletPem = await File.ReadAllTextAsync(fixture.NodeFile(worker, "/var/lib/kubelet/pki/kubelet-client-current.pem"));
        var roots = PemBundle.Parse(await File.ReadAllTextAsync(fixture.NodeFile(worker, KubeadmPaths.Default.CaCert)), "ca.crt").Certificates;
        using var asNode = new KubeconfigClient(fixture.Lab.EndpointUrl, roots, X509Certificate2.CreateFromPem(kubeletPem, kubeletPem));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=system:node:{worker.Name}, O=system:nodes", key, HashAlgorithmName.SHA256);
        var name = "node-csr-" + Guid.NewGuid().ToString("N")[..8];
        await asNode.CreateAsync("/apis/certificates.k8s.io/v1/certificatesigningrequests", new JsonObject
        {
            ["apiVersion"] = "certificates.k8s.io/v1", ["kind"] = "CertificateSigningRequest",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["request"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(request.CreateSigningRequestPem())),
                ["signerName"] = "kubernetes.io/kube-apiserver-client-kubelet",
                ["usages"] = new JsonArray("digital signature", "client auth"),
            },
        }, None);
        string? certificate = null;
        JsonObject? csr = null;
        await WorkloadLab.EventuallyAsync(async () =>
        {
            csr = await fixture.Admin.GetAsync($"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}", None);
            certificate = WorkloadPods.Str(csr?["status"]?["certificate"]);
            return certificate.Length > 0;
        }, "the CSR is approved and signed");
        Assert.Contains((csr!["status"]!["conditions"] as JsonArray)!, c => WorkloadPods.Str(c?["type"]) == "Approved" && WorkloadPods.Str(c?["reason"]) == "AutoApproved");
        Assert.Equal($"system:node:{worker.Name}", WorkloadPods.Str(csr["spec"]?["username"]));

        var certPath = Path.Combine(fixture.Dir, name + ".crt");
        await File.WriteAllBytesAsync(certPath, Convert.FromBase64String(certificate!));
        var cp = fixture.Lab.ControlPlanes.First();
        var signingFile = fixture.ControllerManagerManifest(cp).GetFlag("cluster-signing-cert-file")!;
        var verify = await ProcessRun.RunAsync("openssl", ["verify", "-CAfile", fixture.NodeFile(cp, signingFile), "-purpose", "sslclient", certPath]);
        verify.EnsureSuccess();
        var issued = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(certificate!)));
        Assert.Equal($"system:node:{worker.Name}", CertificateFacts.CommonName(issued));
        Assert.Equal(["system:nodes"], CertificateFacts.Organizations(issued));
        Assert.True(key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(issued.PublicKey.ExportSubjectPublicKeyInfo()));
        var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(fixture.NodeFile(cp, signingFile)));
        Assert.True(issued.NotAfter <= ca.NotAfter);
    }

    [Fact]
    public async Task AnnotatedDeploymentIsRolledInBatchesAndRolloutStatusFinishes()
    {
        const string ns = "lab-1";
        var manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: roll}
            spec:
              replicas: 4
              selector: {matchLabels: {app: roll}}
              strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}
              template:
                metadata: {labels: {app: roll}}
                spec:
                  serviceAccountName: app
                  containers: [{name: roll, image: registry.example/roll:1}]
            """;
        var file = Path.Combine(fixture.Dir, "roll.yaml");
        await File.WriteAllTextAsync(file, manifest);
        (await fixture.KubectlAsync("-n", ns, "apply", "-f", file)).EnsureSuccess();
        var marked = 0;
        await WorkloadLab.EventuallyAsync(async () =>
        {
            marked += await fixture.MarkStuckPodsReadyAsync(ns, TimeSpan.FromSeconds(20));
            var pods = await RollPodsAsync(ns);
            return pods.Count == 4 && pods.All(WorkloadPods.IsReady);
        }, "4 roll pods are Ready");
        var oldNames = (await RollPodsAsync(ns)).Select(WorkloadPods.Name).ToHashSet();

        (await fixture.KubectlAsync("-n", ns, "patch", "deployment", "roll", "-p", """{"spec":{"template":{"metadata":{"annotations":{"kube-ca-rotate.test/restartedAt":"now"}}}}}""")).EnsureSuccess();
        var rollout = fixture.KubectlAsync("-n", ns, "rollout", "status", "deployment/roll", "--timeout=110s");
        var samples = new List<(int Old, int New, int Ready, int Total)>();
        while (!rollout.IsCompleted)
        {
            marked += await fixture.MarkStuckPodsReadyAsync(ns, TimeSpan.FromSeconds(20));
            var pods = (await RollPodsAsync(ns)).Where(p => !WorkloadPods.IsTerminating(p)).ToList();
            samples.Add((pods.Count(p => oldNames.Contains(WorkloadPods.Name(p))), pods.Count(p => !oldNames.Contains(WorkloadPods.Name(p))), pods.Count(WorkloadPods.IsReady), pods.Count));
            await Task.Delay(150);
        }
        var status = (await rollout).EnsureSuccess();
        Assert.Contains("successfully rolled out", status.Stdout);

        // Batches within maxSurge 0 / maxUnavailable 1: never more than 4 active pods (terminating ones do not count, as in
        // kube-controller-manager), never fewer than 3 ready, and a time when old and new pods ran side by side.
        Assert.All(samples, s => Assert.True(s.Total <= 4, $"{s.Total} pods at once"));
        Assert.All(samples, s => Assert.True(s.Ready >= 3, $"only {s.Ready} ready pods during the rollout"));
        Assert.Contains(samples, s => s.Old > 0 && s.New > 0);
        var after = (await RollPodsAsync(ns)).Where(p => !WorkloadPods.IsTerminating(p)).ToList();
        Assert.Equal(4, after.Count);
        Assert.DoesNotContain(after, p => oldNames.Contains(WorkloadPods.Name(p)));
        // rollout status does not wait for terminating pods; their kubelets stop them and delete them soon after.
        await WorkloadLab.EventuallyAsync(async () => !(await RollPodsAsync(ns)).Any(p => oldNames.Contains(WorkloadPods.Name(p))), "the old roll pods are gone");
        var deployment = (await fixture.Admin.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/roll", None))!;
        Assert.Equal(deployment["metadata"]!["generation"]!.GetValue<long>(), deployment["status"]!["observedGeneration"]!.GetValue<long>());
        Assert.Equal(4, deployment["status"]!["updatedReplicas"]!.GetValue<int>());
        Assert.Equal(4, deployment["status"]!["availableReplicas"]!.GetValue<int>());
        Console.WriteLine($"roll: {samples.Count} samples, {marked} pod(s) marked Ready by the test (0 when the kubelet stand-in reports readiness)");
    }

    private async Task<List<JsonObject>> RollPodsAsync(string ns) =>
        await fixture.Admin.ListAsync($"/api/v1/namespaces/{ns}/pods?labelSelector=app%3Droll", None);

    [Fact]
    public async Task StoppedLeaderIsReplacedByTheOtherControllerManager()
    {
        var holder = await fixture.LeaseHolderAsync("kube-controller-manager");
        Assert.False(string.IsNullOrEmpty(holder));
        var leaderNode = fixture.Lab.Node(holder![..holder.IndexOf('_')]);
        var manifest = fixture.NodeFile(leaderNode, KubeadmPaths.Default.ControllerManagerManifest);
        var parked = Path.Combine(fixture.Dir, "kcm-parked.yaml");
        File.Move(manifest, parked); // the documented way to stop a static pod
        try
        {
            await WorkloadLab.EventuallyAsync(async () => await fixture.LeaseHolderAsync("kube-controller-manager") is { Length: > 0 } h && !h.StartsWith(leaderNode.Name + "_", StringComparison.Ordinal),
                "another controller-manager holds the lease");
            // and the new leader acts: a new namespace gets its kube-root-ca.crt
            await fixture.Admin.CreateAsync("/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "after-failover" } }, None);
            await WorkloadLab.EventuallyAsync(async () => await fixture.Admin.GetAsync("/api/v1/namespaces/after-failover/configmaps/kube-root-ca.crt", None) is not null,
                "the new leader publishes kube-root-ca.crt");
        }
        finally
        {
            File.Move(parked, manifest);
        }
    }
}
