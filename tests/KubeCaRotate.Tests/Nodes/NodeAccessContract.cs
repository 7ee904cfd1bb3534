using System.Text;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

/// <summary>
/// What every <see cref="INodeAccess"/> transport must do, run against each (LocalNode, SshNode): the node "cp-1" has a
/// fresh directory standing for its "/", which the tests also inspect directly.
/// </summary>
public abstract class NodeAccessContract : IDisposable
{
    private readonly TemporaryNodeRoot _root = new();
    private INodeAccess? _node;

    /// <summary>The transport under test, for node <paramref name="name"/> whose "/" is <paramref name="root"/>.</summary>
    protected abstract INodeAccess Open(string name, string root);

    protected TemporaryNodeRoot Root => _root;

    protected INodeAccess Node => _node ??= Open("cp-1", _root.Path);

    public void Dispose()
    {
        _node?.Dispose();
        _root.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task WriteCreatesParentsAndSetsTheExactMode()
    {
        await Node.WriteFileAsync("/etc/kubernetes/pki/ca.key", "secret"u8.ToArray(), FileModes.Private);
        await Node.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "public"u8.ToArray(), FileModes.Public);

        Assert.Equal("secret", File.ReadAllText(_root.Host("/etc/kubernetes/pki/ca.key")));
        Assert.Equal(FileModes.Private, File.GetUnixFileMode(_root.Host("/etc/kubernetes/pki/ca.key")));
        Assert.Equal(FileModes.Public, File.GetUnixFileMode(_root.Host("/etc/kubernetes/pki/ca.crt")));
        Assert.Equal(FileModes.Directory, File.GetUnixFileMode(_root.Host("/etc/kubernetes/pki")));
        Assert.Equal(FileModes.Private, await Node.GetFileModeAsync("/etc/kubernetes/pki/ca.key"));
    }

    [Fact]
    public async Task ModeIsNotWidenedOrNarrowedByTheUmaskOrThePreviousFile()
    {
        var host = _root.Host("/etc/kubernetes/admin.conf");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(host)!);
        File.WriteAllText(host, "old");
        File.SetUnixFileMode(host, (UnixFileMode)0b111_111_111);

        await Node.WriteFileAsync("/etc/kubernetes/admin.conf", "new"u8.ToArray(), FileModes.Private);

        Assert.Equal(FileModes.Private, File.GetUnixFileMode(host));
        Assert.Equal("new", File.ReadAllText(host));
    }

    [Fact]
    public async Task ReplaceIsARenameSoAnOpenReaderKeepsTheOldContent()
    {
        await Node.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "old content"u8.ToArray(), FileModes.Public);
        var host = _root.Host("/etc/kubernetes/pki/ca.crt");
        var inodeBefore = new FileInfo(host);
        using var reader = new FileStream(host, FileMode.Open, FileAccess.Read);

        await Node.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "new content"u8.ToArray(), FileModes.Public);

        // The open handle still reads the old file: the new one was renamed over it, not written into it.
        using var text = new StreamReader(reader);
        Assert.Equal("old content", await text.ReadToEndAsync());
        Assert.Equal("new content", Encoding.UTF8.GetString((await Node.ReadFileAsync("/etc/kubernetes/pki/ca.crt"))!));
        Assert.True(inodeBefore.Exists);

        // No temporary file is left behind.
        Assert.Equal(["ca.crt"], Directory.GetFiles(_root.Host("/etc/kubernetes/pki")).Select(System.IO.Path.GetFileName));
    }

    [Fact]
    public async Task AbsentFilesAreNormalAnswers()
    {
        Assert.Null(await Node.ReadFileAsync("/etc/kubernetes/pki/missing.crt"));
        Assert.False(await Node.ExistsAsync("/etc/kubernetes/pki/missing.crt"));
        Assert.Null(await Node.GetFileModeAsync("/etc/kubernetes/pki/missing.crt"));
        Assert.Empty(await Node.ListDirectoryAsync("/etc/kubernetes/nothing"));
        Assert.False(await Node.DeleteFileAsync("/etc/kubernetes/pki/missing.crt"));
        Assert.Null(await Node.ReadSymlinkAsync("/var/lib/kubelet/pki/kubelet-client-current.pem"));
    }

    [Fact]
    public async Task ListsAndDeletes()
    {
        await Node.WriteFileAsync("/etc/kubernetes/manifests/etcd.yaml", "a"u8.ToArray(), FileModes.Private);
        await Node.WriteFileAsync("/etc/kubernetes/manifests/kube-apiserver.yaml", "b"u8.ToArray(), FileModes.Private);
        await Node.WriteFileAsync("/etc/kubernetes/manifests/sub/x", "c"u8.ToArray(), FileModes.Private);

        var entries = await Node.ListDirectoryAsync("/etc/kubernetes/manifests");
        Assert.Equal(["etcd.yaml", "kube-apiserver.yaml", "sub"], entries.Select(e => e.Name));
        Assert.Equal("/etc/kubernetes/manifests/etcd.yaml", entries[0].Path);
        Assert.Equal(NodeEntryKind.Directory, entries[2].Kind);

        Assert.True(await Node.DeleteFileAsync("/etc/kubernetes/manifests/etcd.yaml"));
        Assert.False(File.Exists(_root.Host("/etc/kubernetes/manifests/etcd.yaml")));
        var error = await Assert.ThrowsAsync<NodeAccessException>(() => Node.DeleteFileAsync("/etc/kubernetes/manifests/sub"));
        Assert.Contains("directory", error.Message);
    }

    [Theory]
    [InlineData("etc/kubernetes/admin.conf")]
    [InlineData("/../etc/passwd")]
    [InlineData("/etc/../../etc/passwd")]
    [InlineData("")]
    public async Task PathsThatAreNotAbsoluteOrClimbOutAreRefused(string path)
    {
        var error = await Assert.ThrowsAsync<NodeAccessException>(() => Node.ReadFileAsync(path));
        Assert.Contains("cp-1", error.Message);
        Assert.Equal("cp-1", error.NodeName);
        await Assert.ThrowsAsync<NodeAccessException>(() => Node.WriteFileAsync(path, [1], FileModes.Private));
    }

    [Fact]
    public async Task DotDotInsideTheRootIsAllowed()
    {
        await Node.WriteFileAsync("/etc/kubernetes/../kubernetes/pki/./ca.crt", "x"u8.ToArray(), FileModes.Public);
        Assert.True(File.Exists(_root.Host("/etc/kubernetes/pki/ca.crt")));
    }

    [Fact]
    public async Task SymlinksPointingOutsideTheRootAreRefused()
    {
        using var outside = new TemporaryNodeRoot();
        File.WriteAllText(System.IO.Path.Combine(outside.Path, "secret"), "outside");
        Directory.CreateDirectory(_root.Host("/etc"));
        File.CreateSymbolicLink(_root.Host("/etc/absolute"), System.IO.Path.Combine(outside.Path, "secret"));
        Directory.CreateSymbolicLink(_root.Host("/etc/dir"), outside.Path);
        File.CreateSymbolicLink(_root.Host("/etc/relative"), "../../" + System.IO.Path.GetFileName(outside.Path) + "/secret");

        foreach (var path in new[] { "/etc/absolute", "/etc/dir/secret", "/etc/relative" })
        {
            var error = await Assert.ThrowsAsync<NodeAccessException>(() => Node.ReadFileAsync(path));
            Assert.Contains("outside", error.Message);
            Assert.Contains("cp-1", error.Message);
        }

        await Assert.ThrowsAsync<NodeAccessException>(() => Node.WriteFileAsync("/etc/dir/secret", [1], FileModes.Private));
        Assert.Equal("outside", File.ReadAllText(System.IO.Path.Combine(outside.Path, "secret")));
        await Assert.ThrowsAsync<NodeAccessException>(() => Node.CreateSymlinkAsync("/etc/x", "../../../etc/passwd"));
    }

    [Fact]
    public async Task SymlinksAreNodePathsStoredAsHostPathsInsideTheRoot()
    {
        await Node.WriteFileAsync("/var/lib/kubelet/pki/kubelet-client-2024-01-01-00-00-00.pem", "first"u8.ToArray(), FileModes.Private);
        await Node.CreateSymlinkAsync("/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet-client-2024-01-01-00-00-00.pem");

        Assert.Equal("/var/lib/kubelet/pki/kubelet-client-2024-01-01-00-00-00.pem",
            await Node.ReadSymlinkAsync("/var/lib/kubelet/pki/kubelet-client-current.pem"));
        Assert.Equal("first", Encoding.UTF8.GetString((await Node.ReadFileAsync("/var/lib/kubelet/pki/kubelet-client-current.pem"))!));

        // Other programs on this machine follow the link to the same file.
        Assert.Equal("first", File.ReadAllText(_root.Host("/var/lib/kubelet/pki/kubelet-client-current.pem")));
    }

    [Fact]
    public async Task SymlinkReplaceIsAtomicAndKeepsALink()
    {
        const string current = "/var/lib/kubelet/pki/kubelet-client-current.pem";
        await Node.WriteFileAsync("/var/lib/kubelet/pki/kubelet-client-a.pem", "a"u8.ToArray(), FileModes.Private);
        await Node.WriteFileAsync("/var/lib/kubelet/pki/kubelet-client-b.pem", "b"u8.ToArray(), FileModes.Private);
        await Node.CreateSymlinkAsync(current, "/var/lib/kubelet/pki/kubelet-client-a.pem");

        await Node.CreateSymlinkAsync(current, "kubelet-client-b.pem");

        Assert.Equal("kubelet-client-b.pem", await Node.ReadSymlinkAsync(current));
        Assert.Equal("b", Encoding.UTF8.GetString((await Node.ReadFileAsync(current))!));
        Assert.NotNull(new FileInfo(_root.Host(current)).LinkTarget);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_root.Host("/var/lib/kubelet/pki")), p => p.EndsWith(".tmp", StringComparison.Ordinal));

        // A dangling link can be created and replaced too.
        await Node.CreateSymlinkAsync(current, "/var/lib/kubelet/pki/not-yet.pem");
        Assert.False(await Node.ExistsAsync(current));
        Assert.True(await Node.DeleteFileAsync(current));
        Assert.True(File.Exists(_root.Host("/var/lib/kubelet/pki/kubelet-client-b.pem")));
    }

    [Fact]
    public async Task WritingThroughALinkReplacesItsTarget()
    {
        await Node.WriteFileAsync("/data/real.conf", "old"u8.ToArray(), FileModes.Private);
        await Node.CreateSymlinkAsync("/etc/kubernetes/kubelet.conf", "/data/real.conf");

        await Node.WriteFileAsync("/etc/kubernetes/kubelet.conf", "new"u8.ToArray(), FileModes.Private);

        Assert.Equal("new", File.ReadAllText(_root.Host("/data/real.conf")));
        Assert.Equal("/data/real.conf", await Node.ReadSymlinkAsync("/etc/kubernetes/kubelet.conf"));
    }

    [Fact]
    public async Task UnreadableFilesNameTheNodeAndPath()
    {
        await Node.WriteFileAsync("/etc/kubernetes/pki", [], FileModes.Public);
        var error = await Assert.ThrowsAsync<NodeAccessException>(() => Node.ReadFileAsync("/etc/kubernetes/pki/ca.crt"));
        Assert.Contains("/etc/kubernetes/pki/ca.crt", error.Message);
        Assert.Contains("cp-1", error.Message);

        Directory.CreateDirectory(_root.Host("/etc/kubernetes/manifests"));
        var directory = await Assert.ThrowsAsync<NodeAccessException>(() => Node.ReadFileAsync("/etc/kubernetes/manifests"));
        Assert.Contains("directory", directory.Message);
    }

    [Fact]
    public async Task RunsArgumentListsWithoutAShell()
    {
        var result = await Node.RunAsync(["printf", "%s|", "a b", "$HOME", ";ls"]);
        Assert.True(result.Succeeded);
        Assert.Equal("a b|$HOME|;ls|", result.StandardOutput);

        var failed = await Node.RunAsync(["sh", "-c", "echo oops >&2; exit 3"]);
        Assert.Equal(3, failed.ExitCode);
        Assert.Equal("oops\n", failed.StandardError);
        var error = Assert.Throws<NodeAccessException>(() => failed.EnsureSuccess(Node.Name, ["sh", "-c", "..."]));
        Assert.Contains("exit code 3", error.Message);
        Assert.Contains("oops", error.Message);

        var missing = await Assert.ThrowsAsync<NodeAccessException>(() => Node.RunAsync(["/no/such/program"]));
        Assert.Contains("cp-1", missing.Message);
    }

    [Fact]
    public async Task EmptyFilesAreWrittenAndCommandsReadNoInput()
    {
        await Node.WriteFileAsync("/etc/kubernetes/empty", [], FileModes.Public);
        Assert.Empty((await Node.ReadFileAsync("/etc/kubernetes/empty"))!);
        Assert.Equal(0, new FileInfo(Root.Host("/etc/kubernetes/empty")).Length);

        // A program reading its standard input gets end-of-file at once rather than waiting forever.
        var cat = await Node.RunAsync(["cat"]);
        Assert.Equal(0, cat.ExitCode);
        Assert.Equal("", cat.StandardOutput);
    }

    [Fact]
    public async Task RunIsCancellable()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Node.RunAsync(["sleep", "30"], cancellation.Token));
    }
}
