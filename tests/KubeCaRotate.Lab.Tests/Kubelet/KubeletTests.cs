using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Kubelet;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Kubelet;

/// <summary>The kubelet stand-in against a real lab, checked with kubectl-free HTTP, curl and openssl.</summary>
public partial class KubeletTests(KubeletLabFixture fixture) : IClassFixture<KubeletLabFixture>
{
    private ProcessIdentity PodProcess(string node, string pod)
    {
        var file = Path.Combine(StaticPodRunner.PodRunDirectory(fixture.Lab, node), pod + ".pid");
        return ProcessIdentity.ParsePidFile(file, File.ReadAllText(file));
    }

    private static async Task<ProcessRun> Cli(params string[] args)
    {
        var exe = LabExecutable.Command();
        return await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), .. args]);
    }

    [Fact]
    public async Task Restarting_the_kubelet_keeps_static_pods_running_and_rereads_kubelet_conf()
    {
        var lab = fixture.Lab;
        var cp = lab.Node("cp-1");
        var before = new[] { "etcd", "kube-apiserver" }.ToDictionary(p => p, p => PodProcess("cp-1", p));
        var oldAgent = KubeletState.Read(lab.RunDir, "cp-1")!;

        // Point the kubelet at its own API server instead of the HA endpoint: only a restart can make it notice.
        var confPath = fixture.NodeFile("cp-1", "/etc/kubernetes/kubelet.conf");
        var conf = Kubeconfig.Parse(File.ReadAllBytes(confPath), confPath);
        conf.SetServer(conf.CurrentCluster!.Name, cp.ApiServerUrl);
        File.WriteAllBytes(confPath, conf.ToBytes());
        await Task.Delay(KubeletAgent.SyncInterval * 2);
        Assert.Equal(lab.EndpointUrl, KubeletState.Read(lab.RunDir, "cp-1")!.Server);

        var run = await Cli("lab", "restart-kubelet", "--dir", lab.Dir, "--node", "cp-1");
        run.EnsureSuccess();
        Assert.Contains("reported Ready", run.Stdout);

        var state = KubeletState.Read(lab.RunDir, "cp-1")!;
        Assert.NotEqual(oldAgent.Pid, state.Pid);
        Assert.Equal(cp.ApiServerUrl, state.Server);
        Assert.NotNull(state.ReadyAt);
        Assert.Equal(File.ReadAllBytes(confPath), File.ReadAllBytes(LoadedFiles.Find(lab, "cp-1", "kubelet", "/etc/kubernetes/kubelet.conf")!));
        foreach (var (pod, process) in before)
        {
            Assert.Equal(process, PodProcess("cp-1", pod));
            Assert.True(process.IsAlive(), $"{pod} should still run after the kubelet restart");
        }
    }

    [Fact]
    public async Task Editing_a_manifest_flag_restarts_the_pod_and_touching_it_does_not()
    {
        var lab = fixture.Lab;
        var manifestPath = fixture.NodeFile("cp-1", "/etc/kubernetes/manifests/kube-apiserver.yaml");
        var before = PodProcess("cp-1", "kube-apiserver");

        File.SetLastWriteTimeUtc(manifestPath, DateTime.UtcNow);
        await Task.Delay(lab.FileCheckFrequency * 4);
        Assert.Equal(before, PodProcess("cp-1", "kube-apiserver"));

        var manifest = StaticPodManifest.Parse(File.ReadAllBytes(manifestPath), manifestPath);
        manifest.SetFlag("event-ttl", manifest.GetFlag("event-ttl") == "3h" ? "2h" : "3h");
        File.WriteAllBytes(manifestPath, manifest.ToBytes());
        var after = await KubeletLabFixture.EventuallyAsync(() =>
        {
            // Between the old process and the new one the pid file is briefly absent.
            var file = Path.Combine(StaticPodRunner.PodRunDirectory(lab, "cp-1"), "kube-apiserver.pid");
            var now = File.Exists(file) ? PodProcess("cp-1", "kube-apiserver") : null;
            return Task.FromResult(now is not null && now != before && now.IsAlive() ? now : null);
        }, "the kube-apiserver pod to be restarted after its manifest changed");
        Assert.False(before.IsAlive());

        // The mirror pod follows: new hash, start time of the new process.
        var hash = File.ReadAllText(Path.Combine(StaticPodRunner.PodRunDirectory(lab, "cp-1"), "kube-apiserver.hash"));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(manifestPath))), hash);
        await KubeletLabFixture.EventuallyAsync(async () =>
        {
            var (status, pod) = await fixture.SendAsync(HttpMethod.Get, "/api/v1/namespaces/kube-system/pods/kube-apiserver-cp-1");
            return status == 200 && pod!["metadata"]!["annotations"]!["kubernetes.io/config.hash"]!.GetValue<string>() == hash
                && pod["status"]?["startTime"]?.GetValue<string>() is { } started && SameStart(started, after.StartedAt) ? pod : null;
        }, "the mirror pod kube-apiserver-cp-1 to show the new hash and start time");
        await fixture.WaitApiReadyAsync(); // the lab has one API server: leave it serving for the next test
    }

    /// <summary>
    /// The kubelet reports the start it saw when it launched the process (the wall clock); a process found by its pid
    /// file only knows the kernel's estimate, from the boot time in whole seconds, which can be up to a second early.
    /// </summary>
    private static bool SameStart(string reported, DateTimeOffset process) =>
        Math.Abs((DateTimeOffset.Parse(reported, CultureInfo.InvariantCulture) - process).TotalSeconds) < 2.5;

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_lease_is_renewed_and_mirror_pods_carry_the_process_start_time()
    {
        var lab = fixture.Lab;
        foreach (var node in lab.Nodes)
        {
            var first = (await fixture.GetAsync($"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node.Name}"))["spec"]!;
            Assert.Equal(node.Name, first["holderIdentity"]!.GetValue<string>());
            var renewed = first["renewTime"]!.GetValue<string>();
            await KubeletLabFixture.EventuallyAsync(async () =>
            {
                var now = (await fixture.GetAsync($"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node.Name}"))["spec"]!["renewTime"]!.GetValue<string>();
                return string.CompareOrdinal(now, renewed) > 0 ? now : null;
            }, $"the lease of {node.Name} to be renewed");
            var ready = (await fixture.GetAsync($"/api/v1/nodes/{node.Name}"))["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "Ready")!;
            Assert.Equal("True", ready["status"]!.GetValue<string>());
        }

        var etcd = PodProcess("cp-1", "etcd");
        var mirror = await fixture.GetAsync("/api/v1/namespaces/kube-system/pods/etcd-cp-1");
        var annotations = mirror["metadata"]!["annotations"]!;
        var hash = File.ReadAllText(Path.Combine(StaticPodRunner.PodRunDirectory(lab, "cp-1"), "etcd.hash"));
        Assert.Equal(hash, annotations["kubernetes.io/config.mirror"]!.GetValue<string>());
        Assert.Equal(hash, annotations["kubernetes.io/config.hash"]!.GetValue<string>());
        Assert.Equal("file", annotations["kubernetes.io/config.source"]!.GetValue<string>());
        var start = mirror["status"]!["startTime"]!.GetValue<string>();
        Assert.True(SameStart(start, etcd.StartedAt), $"mirror pod start {start}, process start {Stamp(etcd.StartedAt)}");
        Assert.Equal("Running", mirror["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("cp-1", mirror["spec"]!["nodeName"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_kubelet_api_accepts_the_api_server_client_and_refuses_others()
    {
        var lab = fixture.Lab;
        var pki = fixture.NodeFile("cp-1", "/etc/kubernetes/pki");
        foreach (var node in lab.Nodes)
        {
            var url = $"https://{node.Address}:{node.KubeletPort}/pods";
            async Task<(string Code, string Body)> Curl(params string[] extra)
            {
                var run = await ProcessRun.RunAsync("curl", ["-sS", "-k", "-o", "-", "-w", "\n%{http_code}", .. extra, url]);
                run.EnsureSuccess();
                var lines = run.Stdout.TrimEnd().Split('\n');
                return (lines[^1], string.Join('\n', lines[..^1]));
            }

            Assert.Equal("401", (await Curl()).Code);

            using var foreignKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var foreignCa = new CertificateRequest("CN=not-the-cluster-ca", foreignKey, HashAlgorithmName.SHA256);
            foreignCa.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var ca = foreignCa.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var leafRequest = new CertificateRequest("CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins", leafKey, HashAlgorithmName.SHA256);
            leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var leaf = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3]);
            var foreignCert = Path.Combine(fixture.Dir, "foreign.crt");
            var foreignKeyFile = Path.Combine(fixture.Dir, "foreign.key");
            File.WriteAllText(foreignCert, leaf.ExportCertificatePem());
            File.WriteAllText(foreignKeyFile, leafKey.ExportPkcs8PrivateKeyPem());
            File.SetUnixFileMode(foreignKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Assert.Equal("401", (await Curl("--cert", foreignCert, "--key", foreignKeyFile)).Code);

            var trusted = await Curl("--cert", Path.Combine(pki, "apiserver-kubelet-client.crt"), "--key", Path.Combine(pki, "apiserver-kubelet-client.key"));
            Assert.Equal("200", trusted.Code);
            var pods = JsonNode.Parse(trusted.Body)!["items"]!.AsArray().Select(p => p!["metadata"]!["name"]!.GetValue<string>()).ToList();
            if (node.IsControlPlane) Assert.Contains($"kube-apiserver-{node.Name}", pods);
            var health = await ProcessRun.RunAsync("curl", ["-sS", "-k", "--cert", Path.Combine(pki, "apiserver-kubelet-client.crt"), "--key", Path.Combine(pki, "apiserver-kubelet-client.key"), $"https://{node.Address}:{node.KubeletPort}/healthz"]);
            Assert.Equal("ok", health.EnsureSuccess().Stdout);
        }
    }

    [Fact]
    public async Task A_renewal_through_a_csr_writes_a_new_dated_pem_signed_by_the_cluster_ca_and_moves_the_current_link()
    {
        var lab = fixture.Lab;
        var currentLink = fixture.NodeFile("worker-1", KubeletClientCertificateStore.CurrentPath);
        var before = new FileInfo(currentLink).LinkTarget;
        File.WriteAllText(KubeletAgent.RenewTriggerFile(lab, "worker-1"), "now");

        // Play the controller-manager: approve and sign the kubelet's CSR with the cluster CA.
        var csr = await KubeletLabFixture.EventuallyAsync(async () =>
        {
            var list = await fixture.GetAsync("/apis/certificates.k8s.io/v1/certificatesigningrequests");
            return list["items"]!.AsArray().OfType<JsonObject>().FirstOrDefault(c =>
                c["spec"]!["signerName"]!.GetValue<string>() == "kubernetes.io/kube-apiserver-client-kubelet"
                && CertificateRequest.LoadSigningRequestPem(Encoding.ASCII.GetString(Convert.FromBase64String(c["spec"]!["request"]!.GetValue<string>())), HashAlgorithmName.SHA256)
                    .SubjectName.Name.Contains("CN=system:node:worker-1", StringComparison.Ordinal));
        }, "the kubelet of worker-1 to create a CSR");
        var name = csr["metadata"]!["name"]!.GetValue<string>();
        var request = CertificateRequest.LoadSigningRequestPem(Encoding.ASCII.GetString(Convert.FromBase64String(csr["spec"]!["request"]!.GetValue<string>())), HashAlgorithmName.SHA256);
        Assert.Contains("O=system:nodes", request.SubjectName.Name);
        Assert.Equal(["client auth", "digital signature"], csr["spec"]!["usages"]!.AsArray().Select(u => u!.GetValue<string>()).Order());

        string? signedSerial = null;
        if (csr["status"]?["certificate"] is null)
        {
            csr["status"] = new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Approved", ["status"] = "True", ["reason"] = "TestApprove", ["message"] = "approved by the test" }) };
            var approval = (await fixture.SendAsync(HttpMethod.Put, $"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval", csr)).Status;
            // 409: the controller-manager stand-in approved (and signs) it in between; it is then its certificate that counts.
            Assert.True(approval is 200 or 409, $"approving the CSR answered {approval}");
        }
        if (csr["status"]?["certificate"] is null && (await fixture.GetAsync($"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}"))["status"]?["conditions"]?.AsArray()
                .Any(c => c?["reason"]?.GetValue<string>() == "TestApprove") == true)
        {
            using var ca = fixture.ClusterCa();
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
            var approved = await fixture.GetAsync($"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}");
            approved["status"]!["certificate"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(issued.ExportCertificatePem() + "\n"));
            Assert.Equal(200, (await fixture.SendAsync(HttpMethod.Put, $"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/status", approved)).Status);
            signedSerial = issued.SerialNumber;
        }
        // else a controller-manager stand-in already signed it with its --cluster-signing-cert-file (the cluster CA).

        var after = await KubeletLabFixture.EventuallyAsync(() =>
            Task.FromResult(new FileInfo(currentLink).LinkTarget is { } t && t != before ? t : null), "kubelet-client-current.pem to point at the new certificate");
        Assert.Matches(@"kubelet-client-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem$", after);
        var dated = Path.GetFullPath(after, Path.GetDirectoryName(currentLink)!);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dated));
        var verify = await ProcessRun.RunAsync("openssl", ["verify", "-CAfile", fixture.NodeFile("worker-1", "/etc/kubernetes/pki/ca.crt"), dated]);
        Assert.Contains(": OK", verify.EnsureSuccess().Stdout);
        using var loaded = X509Certificate2.CreateFromPemFile(dated, dated);
        if (signedSerial is not null) Assert.Equal(signedSerial, loaded.SerialNumber);
        Assert.True(loaded.HasPrivateKey);

        // The kubelet switched to it without a restart, and keeps renewing its lease with it.
        var state = await KubeletLabFixture.EventuallyAsync(() =>
            Task.FromResult(KubeletState.Read(lab.RunDir, "worker-1") is { } s && s.ClientCertificateSerial == loaded.SerialNumber ? s : null), "the kubelet to use its new certificate");
        var renewedAt = state.LastRenewalAt!.Value;
        await KubeletLabFixture.EventuallyAsync(async () =>
        {
            var lease = await fixture.GetAsync("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/worker-1");
            return DateTimeOffset.Parse(lease["spec"]!["renewTime"]!.GetValue<string>(), CultureInfo.InvariantCulture) > renewedAt ? lease : null;
        }, "the lease of worker-1 to be renewed with the new certificate");
        Assert.Equal(File.ReadAllBytes(dated), File.ReadAllBytes(LoadedFiles.Find(lab, "worker-1", "kubelet", KubeletClientCertificateStore.CurrentPath)!));
    }

    [Fact]
    public async Task A_pod_keeps_the_ca_it_read_at_start_and_a_new_pod_reads_the_new_one()
    {
        var lab = fixture.Lab;
        JsonObject Pod(string name, string serviceAccount) => new()
        {
            ["apiVersion"] = "v1", ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "lab-2" },
            ["spec"] = new JsonObject
            {
                ["nodeName"] = "worker-1", ["serviceAccountName"] = serviceAccount,
                ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "registry.k8s.io/pause:3.10" }),
            },
        };
        string CaLoadedBy(string pod) => File.ReadAllText(LoadedFiles.Find(lab, "worker-1", WorkloadPods.Component("lab-2", pod), WorkloadPods.ServiceAccountDir + "/ca.crt")!);
        async Task<JsonObject> ReadyAsync(string pod) => await KubeletLabFixture.EventuallyAsync(async () =>
        {
            var (status, body) = await fixture.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/lab-2/pods/{pod}");
            var ready = body?["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c!["type"]!.GetValue<string>() == "Ready");
            return status == 200 && ready?["status"]?.GetValue<string>() == "True" ? body : null;
        }, $"pod lab-2/{pod} to be Ready");

        await fixture.WaitApiReadyAsync();
        Assert.Equal(201, (await fixture.SendAsync(HttpMethod.Post, "/api/v1/namespaces/lab-2/pods", Pod("early", "app"))).Status);
        var early = await ReadyAsync("early");
        Assert.Equal("Running", early["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(lab.Node("worker-1").Address, early["status"]!["podIP"]!.GetValue<string>());
        var rootCa = await fixture.GetAsync("/api/v1/namespaces/lab-2/configmaps/kube-root-ca.crt");
        var oldCa = rootCa["data"]!["ca.crt"]!.GetValue<string>();
        Assert.Equal(oldCa, CaLoadedBy("early"));

        // A new CA joins the bundle after the pod started.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kubernetes-next", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var next = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var nextPem = next.ExportCertificatePem();
        var kcm = Path.Combine(StaticPodRunner.PodRunDirectory(lab, "cp-1"), "kube-controller-manager.pid");
        if (File.Exists(kcm) && ProcessIdentity.ParsePidFile(kcm, File.ReadAllText(kcm)).IsAlive())
        {
            // With a controller-manager publishing kube-root-ca.crt, change it the way a rotation does: widen its
            // --root-ca-file (read at start only) and restart it through its manifest.
            // The signer keeps a single-certificate copy, as the manual-rotation page says: with a bundle in
            // --cluster-signing-cert-file the controller-manager refuses to start.
            var caFile = fixture.NodeFile("cp-1", "/etc/kubernetes/pki/ca.crt");
            File.Copy(caFile, fixture.NodeFile("cp-1", "/etc/kubernetes/pki/ca-signer.crt"), overwrite: true);
            File.WriteAllText(caFile, File.ReadAllText(caFile).TrimEnd() + "\n" + nextPem + "\n");
            var manifestPath = fixture.NodeFile("cp-1", "/etc/kubernetes/manifests/kube-controller-manager.yaml");
            var manifest = StaticPodManifest.Parse(File.ReadAllBytes(manifestPath), manifestPath);
            manifest.SetFlag("cluster-signing-cert-file", "/etc/kubernetes/pki/ca-signer.crt");
            manifest.SetAnnotation("kube-ca-rotate.test/restarted", Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(manifestPath, manifest.ToBytes());
        }
        else
        {
            rootCa["data"]!["ca.crt"] = oldCa.TrimEnd() + "\n" + nextPem + "\n";
            Assert.Equal(200, (await fixture.SendAsync(HttpMethod.Put, "/api/v1/namespaces/lab-2/configmaps/kube-root-ca.crt", rootCa)).Status);
        }
        var newCa = await KubeletLabFixture.EventuallyAsync(async () =>
            (await fixture.GetAsync("/api/v1/namespaces/lab-2/configmaps/kube-root-ca.crt"))["data"]!["ca.crt"]!.GetValue<string>() is { } ca && ca.Contains(nextPem.Trim(), StringComparison.Ordinal) ? ca : null,
            "kube-root-ca.crt in lab-2 to hold the new CA");

        Assert.Equal(201, (await fixture.SendAsync(HttpMethod.Post, "/api/v1/namespaces/lab-2/pods", Pod("late", "app"))).Status);
        await ReadyAsync("late");
        Assert.Equal(newCa, CaLoadedBy("late"));
        Assert.Equal(oldCa, CaLoadedBy("early"));
        var earlyState = WorkloadPodState.Read(Path.Combine(WorkloadPods.StateDir(lab, "worker-1"), WorkloadPodState.FileName("lab-2", "early")))!;
        Assert.True(earlyState.Ready);
        Assert.Equal(early["metadata"]!["uid"]!.GetValue<string>(), earlyState.Uid);

        // A pod whose service account does not exist gets no token from TokenRequest: it stays Pending and says so.
        Assert.Equal(201, (await fixture.SendAsync(HttpMethod.Post, "/api/v1/namespaces/lab-2/pods", Pod("tokenless", "nobody"))).Status);
        var tokenless = await KubeletLabFixture.EventuallyAsync(async () =>
            (await fixture.SendAsync(HttpMethod.Get, "/api/v1/namespaces/lab-2/pods/tokenless")).Body is { } p && p["status"]?["message"] is not null ? p : null, "pod tokenless to report why it does not start");
        Assert.Equal("Pending", tokenless["status"]!["phase"]!.GetValue<string>());
        Assert.Contains("the service-account token cannot be mounted", tokenless["status"]!["message"]!.GetValue<string>());
        Assert.Contains("lab-2/nobody", tokenless["status"]!["message"]!.GetValue<string>());

        // A deleted pod stops, and its state and snapshot go.
        Assert.Equal(200, (await fixture.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/lab-2/pods/early")).Status);
        // The kubelet removes the state and then the snapshot: wait for both, as the two are not removed at one instant.
        await KubeletLabFixture.EventuallyAsync(() =>
            Task.FromResult(File.Exists(Path.Combine(WorkloadPods.StateDir(lab, "worker-1"), WorkloadPodState.FileName("lab-2", "early")))
                || LoadedFiles.Find(lab, "worker-1", WorkloadPods.Component("lab-2", "early"), WorkloadPods.ServiceAccountDir + "/ca.crt") is not null ? null : "gone"),
            "the kubelet to stop the deleted pod and remove its state and its loaded-files snapshot");
    }
}
