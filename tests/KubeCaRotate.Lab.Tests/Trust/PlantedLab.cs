using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Lab.Tests.Control;
using KubeCaRotate.Lab.Tests.Prober;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Trust;

/// <summary>
/// What the trust-model lab tests do to a running lab and read back: files written as an operator would (atomic
/// rename, keys 0600), static pods restarted by a manifest annotation and waited for by hash, kubelets restarted with
/// `lab restart-kubelet`, `kube-ca-rotate verify -o json` run as a user would, and the prober's trust failures over a
/// window from `lab report -o json`.
/// </summary>
public sealed class PlantedLab(LabFixture fixture)
{
    public LabTopology Lab => fixture.Lab;

    public string Inventory => Path.Combine(Lab.Dir, "inventory.yaml");

    public string NodeFile(string node, string nodePath) => fixture.NodeFile(node, nodePath);

    public byte[] Read(string node, string nodePath) => File.ReadAllBytes(NodeFile(node, nodePath));

    public void Write(string node, string nodePath, byte[] content)
    {
        var path = NodeFile(node, nodePath);
        var mode = File.Exists(path) ? File.GetUnixFileMode(path) : UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var temp = path + ".new";
        File.WriteAllBytes(temp, content);
        File.SetUnixFileMode(temp, mode);
        File.Move(temp, path, overwrite: true);
    }

    public static CertificateAuthority ForeignCa(CaProfile profile) =>
        CertificateIssuer.System.NewCertificateAuthority(profile, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));

    /// <summary>The node's certificate re-issued by <paramref name="ca"/> (same subject, SANs, usages, key).</summary>
    public byte[] Reissued(string node, string certPath, string keyPath, CertificateAuthority ca, CertificateIssuer? issuer = null, TimeSpan? validity = null)
    {
        using var key = PrivateKey.FromPem(File.ReadAllText(NodeFile(node, keyPath)), keyPath);
        var cert = X509Certificate2.CreateFromPem(File.ReadAllText(NodeFile(node, certPath)));
        return Encoding.ASCII.GetBytes((issuer ?? CertificateIssuer.System).Reissue(cert, key, ca, validity ?? TimeSpan.FromDays(30)).ExportCertificatePem() + "\n");
    }

    public CertificateAuthority NodeCa(string node, string certPath, string keyPath) =>
        CertificateAuthority.Load(File.ReadAllText(NodeFile(node, certPath)), certPath, File.ReadAllText(NodeFile(node, keyPath)), keyPath);

    /// <summary>A kubeconfig on a node with its cluster's certificate-authority-data replaced.</summary>
    public byte[] KubeconfigTrusting(string node, string path, string caPem)
    {
        var conf = Kubeconfig.Parse(Read(node, path), path);
        conf.SetCertificateAuthorityData(conf.CurrentCluster!.Name, Encoding.ASCII.GetBytes(caPem));
        return conf.ToBytes();
    }

    /// <summary>Restarts a static pod as kubeadm users do (an annotation changes the manifest's hash) and waits for the kubelet to run the new one.</summary>
    public async Task RestartStaticPodAsync(string node, string pod)
    {
        var manifestPath = $"{KubeadmPaths.Default.ManifestsDir}/{pod}.yaml";
        var manifest = StaticPodManifest.Parse(Read(node, manifestPath), manifestPath);
        manifest.SetAnnotation("kube-ca-rotate.test/restarted-at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        var bytes = manifest.ToBytes();
        Write(node, manifestPath, bytes);
        var hash = Convert.ToHexString(SHA256.HashData(bytes));
        var hashFile = Path.Combine(Lab.RunDir, node, "pods", pod + ".hash");
        await ProbeWatch.UntilAsync($"{pod} on {node} to restart", () => File.Exists(hashFile) && File.ReadAllText(hashFile) == hash);
    }

    /// <summary>`lab restart-kubelet`; with <paramref name="mayStayNotReady"/> a kubelet that cannot reach the API server (exit 3: not Ready again) is what was planted.</summary>
    public async Task RestartKubeletAsync(string node, bool mayStayNotReady = false)
    {
        var exe = LabExecutable.Command();
        var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "lab", "restart-kubelet", "--dir", Lab.Dir, "--node", node]);
        if (!(mayStayNotReady && run.ExitCode == 3)) run.EnsureSuccess();
    }

    public Task<ProcessRun> KubectlAsync(params string[] args) => ProcessRun.RunAsync("kubectl", ["--kubeconfig", Lab.AdminKubeconfig, .. args]);

    /// <summary>`kube-ca-rotate verify --inventory DIR/inventory.yaml -o json`: the exit code and the report.</summary>
    public async Task<(int ExitCode, JsonElement Report)> VerifyAsync()
    {
        var exe = LabExecutable.Command();
        var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "verify", "--inventory", Inventory, "-o", "json"]);
        Assert.True(run.ExitCode is 0 or 1 or 4, $"verify failed ({run.ExitCode}): {run.Stderr}");
        return (run.ExitCode, JsonDocument.Parse(run.Stdout).RootElement);
    }

    public static Dictionary<string, (string State, string Reasons)> Edges(JsonElement report) =>
        report.GetProperty("edges").EnumerateArray().ToDictionary(
            e => e.GetProperty("id").GetString()!,
            e => (e.GetProperty("state").GetString()!, string.Join(" | ", e.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()))));

    public static Dictionary<string, (string State, string Reasons)> NotHealthy(JsonElement report) =>
        Edges(report).Where(e => e.Value.State != "healthy").ToDictionary();

    /// <summary>Waits for three probe rounds from now and returns the edges `lab report -o json` shows with trust failures in that window.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ProberTrustFailuresAsync()
    {
        var watch = new ProbeWatch(Lab);
        var since = DateTimeOffset.UtcNow;
        var window = await watch.RoundsAsync(since, rounds: 3);
        var until = window.Max(r => r.Time).AddTicks(1);
        var report = await ReportRun.JsonAsync(Lab.Dir, since, until);
        return report.GetProperty("edges").EnumerateArray()
            .Where(e => e.GetProperty("trustFailures").GetInt32() > 0)
            .ToDictionary(e => e.GetProperty("edge").GetString()!, e => e.TryGetProperty("lastFailure", out var f) && f.ValueKind == JsonValueKind.Object ? f.GetProperty("error").GetString() ?? "" : "");
    }

    /// <summary>Waits until the prober records a trust failure on <paramref name="edge"/> after <paramref name="since"/>.</summary>
    public async Task UntilProberFailsAsync(string edge, DateTimeOffset since)
    {
        var watch = new ProbeWatch(Lab);
        await ProbeWatch.UntilAsync($"a trust failure on {edge}", () => watch.Since(since).Any(r => r.Edge == edge && r is { Ok: false, Class: FailureClass.Trust }));
    }

    /// <summary>Waits until every edge the prober opens succeeds for two rounds in a row (after an undo).</summary>
    public async Task UntilProberCleanAsync()
    {
        var watch = new ProbeWatch(Lab);
        await ProbeWatch.UntilAsync("every probed edge to succeed for two rounds", () =>
        {
            var recent = watch.Since(DateTimeOffset.UtcNow.AddSeconds(-6));
            return recent.Count > 0 && recent.GroupBy(r => r.Edge).All(g => g.OrderBy(r => r.Time).TakeLast(2).All(r => r.Ok));
        });
    }

    /// <summary>
    /// The prober's edge id as the trust model names it: they are the same for every kind but admin.conf dialled at
    /// one API server directly ("admin->cp-2/kube-apiserver"), which the model covers with the operator kubeconfig's
    /// edge through the HA endpoint ("admin->endpoint", checked against every API server behind it).
    /// </summary>
    public static string ModelId(string proberEdge) =>
        proberEdge.StartsWith("admin->cp-", StringComparison.Ordinal) ? "admin->endpoint" : proberEdge;
}
