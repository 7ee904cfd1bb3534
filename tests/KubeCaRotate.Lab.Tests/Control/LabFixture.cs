using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Tests.Control;

/// <summary>One running lab (3 control planes, 2 workers) shared by the tests of a class; always brought down.</summary>
public sealed class LabFixture : IAsyncLifetime
{
    public string Dir { get; } = TestLab.NewDir("kcr-lab-");

    public LabTopology Lab { get; private set; } = null!;

    public StringWriter Log { get; } = new();

    public async Task InitializeAsync() => Lab = await TestLab.UpAsync(new LabUpOptions(Dir, 3, 2, 3), Log);

    public Task DisposeAsync() => TestLab.DownAndRemoveAsync(Dir);

    public string NodeFile(string node, string nodePath) => Path.Join(Lab.NodeRoot(Lab.Node(node)), nodePath);

    /// <summary>A copy of admin.conf that talks to one API server directly instead of the HA endpoint.</summary>
    public string KubeconfigFor(LabNode apiServer)
    {
        var config = Kubeconfig.Parse(File.ReadAllBytes(Lab.AdminKubeconfig), Lab.AdminKubeconfig);
        config.SetServer(config.CurrentCluster!.Name, apiServer.ApiServerUrl);
        var path = Path.Combine(Dir, $"admin-{apiServer.Name}.conf");
        File.WriteAllBytes(path, config.ToBytes());
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>Writes a certificate and key as PEM files (key 0600) for curl and etcdctl.</summary>
    public (string Cert, string Key) WritePair(string name, System.Security.Cryptography.X509Certificates.X509Certificate2 cert, PrivateKey key)
    {
        var certPath = Path.Combine(Dir, name + ".crt");
        var keyPath = Path.Combine(Dir, name + ".key");
        File.WriteAllText(certPath, cert.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ToPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (certPath, keyPath);
    }
}
