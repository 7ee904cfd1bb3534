using System.Text;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

public sealed class DryRunNodeTests : IDisposable
{
    private readonly TemporaryNodeRoot _root = new();
    private readonly LocalNode _real;

    public DryRunNodeTests()
    {
        _real = new LocalNode("cp-1", _root.Path);
    }

    public void Dispose() => _root.Dispose();

    private static string[] Snapshot(string root) =>
        Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => p + "=" + (File.Exists(p) ? Convert.ToHexString(File.ReadAllBytes(p)) + File.GetUnixFileMode(p) : "dir"))
            .Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task ChangesNothingOnDiskAndRecordsThePlan()
    {
        await _real.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "old ca"u8.ToArray(), FileModes.Public);
        await _real.WriteFileAsync("/var/lib/kubelet/pki/kubelet-client-a.pem", "a"u8.ToArray(), FileModes.Private);
        await _real.CreateSymlinkAsync("/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet-client-a.pem");
        var before = Snapshot(_root.Path);
        var dryRun = new DryRunNode(_real);

        await dryRun.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "new ca"u8.ToArray(), FileModes.Public);
        await dryRun.WriteFileAsync("/etc/kubernetes/pki/ca-new.key", "PRIVATE KEY BYTES"u8.ToArray(), FileModes.Private);
        await dryRun.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "new ca"u8.ToArray(), FileModes.Public);
        Assert.True(await dryRun.DeleteFileAsync("/var/lib/kubelet/pki/kubelet-client-a.pem"));
        Assert.False(await dryRun.DeleteFileAsync("/nothing/here"));
        await dryRun.CreateSymlinkAsync("/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet-client-b.pem");
        var run = await dryRun.RunAsync(["touch", _root.Host("/touched")]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(before, Snapshot(_root.Path));
        Assert.False(File.Exists(_root.Host("/touched")));

        var plan = dryRun.PlannedChanges;
        Assert.Collection(plan,
            c => Assert.Equal(new PlannedFileWrite("cp-1", "/etc/kubernetes/pki/ca.crt", FileModes.Public, 6, PlannedFileWrite.HashOf("new ca"u8.ToArray()), true, true), c),
            c => Assert.Equal("/etc/kubernetes/pki/ca-new.key", Assert.IsType<PlannedFileWrite>(c).Path),
            c => Assert.False(Assert.IsType<PlannedFileWrite>(c).ContentChanged),
            c => Assert.Equal("/var/lib/kubelet/pki/kubelet-client-a.pem", Assert.IsType<PlannedFileDelete>(c).Path),
            c => Assert.Equal("/var/lib/kubelet/pki/kubelet-client-b.pem", Assert.IsType<PlannedSymlink>(c).Target),
            c => Assert.Equal("touch", Assert.IsType<PlannedCommand>(c).Argv[0]));

        // The plan never carries file contents (they may be private keys).
        Assert.DoesNotContain(plan, c => c.ToString().Contains("PRIVATE KEY", StringComparison.Ordinal) || c.Describe().Contains("PRIVATE", StringComparison.Ordinal));
        Assert.Equal("cp-1: create /etc/kubernetes/pki/ca-new.key (17 bytes, mode 0600)", plan[1].Describe());
    }

    [Fact]
    public async Task LaterReadsSeeThePlannedState()
    {
        await _real.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "old"u8.ToArray(), FileModes.Public);
        await _real.WriteFileAsync("/etc/kubernetes/pki/old.crt", "x"u8.ToArray(), FileModes.Public);
        var dryRun = new DryRunNode(_real);

        await dryRun.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "new"u8.ToArray(), FileModes.Private);
        await dryRun.WriteFileAsync("/etc/kubernetes/pki/etcd/ca.crt", "etcd"u8.ToArray(), FileModes.Public);
        await dryRun.DeleteFileAsync("/etc/kubernetes/pki/old.crt");
        await dryRun.CreateSymlinkAsync("/etc/kubernetes/current.crt", "pki/ca.crt");

        Assert.Equal("new", Encoding.UTF8.GetString((await dryRun.ReadFileAsync("/etc/kubernetes/pki/ca.crt"))!));
        Assert.Equal(FileModes.Private, await dryRun.GetFileModeAsync("/etc/kubernetes/pki/ca.crt"));
        Assert.Null(await dryRun.ReadFileAsync("/etc/kubernetes/pki/old.crt"));
        Assert.False(await dryRun.ExistsAsync("/etc/kubernetes/pki/old.crt"));
        Assert.True(await dryRun.ExistsAsync("/etc/kubernetes/pki/etcd"));
        Assert.Equal("new", Encoding.UTF8.GetString((await dryRun.ReadFileAsync("/etc/kubernetes/current.crt"))!));
        Assert.Equal("pki/ca.crt", await dryRun.ReadSymlinkAsync("/etc/kubernetes/current.crt"));

        var listing = await dryRun.ListDirectoryAsync("/etc/kubernetes/pki");
        Assert.Equal(["ca.crt", "etcd"], listing.Select(e => e.Name));
        Assert.Equal(NodeEntryKind.Directory, listing[1].Kind);

        // The real node is untouched.
        Assert.Equal("old", Encoding.UTF8.GetString((await _real.ReadFileAsync("/etc/kubernetes/pki/ca.crt"))!));
        Assert.True(await _real.ExistsAsync("/etc/kubernetes/pki/old.crt"));
    }

    [Fact]
    public async Task ReadOnlyCommandsCanBeLetThrough()
    {
        var dryRun = new DryRunNode(_real, argv => argv[0] == "echo");

        var echoed = await dryRun.RunAsync(["echo", "checked"]);
        await dryRun.RunAsync(["touch", _root.Host("/touched")]);

        Assert.Equal("checked\n", echoed.StandardOutput);
        Assert.False(File.Exists(_root.Host("/touched")));
        Assert.Single(dryRun.PlannedChanges);
    }

    [Fact]
    public async Task RefusesBadPathsLikeARealNode()
    {
        var dryRun = new DryRunNode(_real);
        await Assert.ThrowsAsync<NodeAccessException>(() => dryRun.WriteFileAsync("relative/path", [1], FileModes.Private));
        await Assert.ThrowsAsync<NodeAccessException>(() => dryRun.WriteFileAsync("/../escape", [1], FileModes.Private));
        Assert.Empty(dryRun.PlannedChanges);
    }
}
