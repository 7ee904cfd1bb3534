using KubeCaRotate.Lab.ControllerManager;
using KubeCaRotate.Lab.Processes;
using KubeCaRotate.Lab.Tests.ApiServer;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.ControllerManager;

/// <summary>The controller-manager refuses a signing file that is a bundle, as the real one does; no lab needed.</summary>
public sealed class SigningCertificateFileTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kcr-kcm-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task TwoCertificatesInTheSigningFileStopTheControllerManager()
    {
        var pki = Path.Combine(_root, "etc/kubernetes/pki");
        Directory.CreateDirectory(pki);
        var a = CertificateIssuer.System.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "ca", "ca", "kubernetes", "old"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        var b = CertificateIssuer.System.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "ca", "ca", "kubernetes-new", "new"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        await File.WriteAllTextAsync(Path.Combine(pki, "ca.crt"), a.CertificatePem() + b.CertificatePem());
        await File.WriteAllTextAsync(Path.Combine(pki, "ca.key"), a.Key.ToPem());
        File.SetUnixFileMode(Path.Combine(pki, "ca.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var exe = LabExecutable.Command();
        var run = await ProcessRun.RunAsync(exe[0], [.. exe.Skip(1), "lab", "component", "kube-controller-manager", "--root", _root, "--node", "cp-1", "--",
            "kube-controller-manager", "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt", "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
            "--kubeconfig=/etc/kubernetes/controller-manager.conf", "--root-ca-file=/etc/kubernetes/pki/ca.crt"]);
        Assert.NotEqual(0, run.ExitCode);
        // the error sentence may be wrapped at the console width
        Assert.Contains("expected 1 certificate, found 2", System.Text.RegularExpressions.Regex.Replace(run.Stderr + run.Stdout, @"\s+", " "));
    }

    [Fact]
    public void OneCertificateWithItsKeyIsAccepted()
    {
        Directory.CreateDirectory(_root);
        var a = CertificateIssuer.System.NewCertificateAuthority(new CaProfile(CaKind.Cluster, "ca", "ca", "kubernetes", "old"), KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(30));
        File.WriteAllText(Path.Combine(_root, "ca.crt"), a.CertificatePem());
        File.WriteAllText(Path.Combine(_root, "ca.key"), a.Key.ToPem());
        var current = new ClusterSigningAuthority(Path.Combine(_root, "ca.crt"), Path.Combine(_root, "ca.key")).Current();
        Assert.Equal(a.Certificate.Thumbprint, current.Certificate.Thumbprint);
    }
}
