using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

/// <summary>The node contract over a real sshd: the node's "/" is a directory on the SSH host (access.ssh.root).</summary>
public sealed class SshNodeTests(SshServer server) : NodeAccessContract, IClassFixture<SshServer>
{
    protected override INodeAccess Open(string name, string root) => new SshNode(name, server.Options(root));

    [Fact]
    public async Task AMissingRootIsRefusedAtTheFirstOperation()
    {
        using var node = new SshNode("cp-9", server.Options("/no/such/root"));
        var error = await Assert.ThrowsAsync<NodeAccessException>(() => node.ReadFileAsync("/etc/kubernetes/admin.conf"));
        Assert.Contains("cp-9", error.Message);
        Assert.Contains("/no/such/root", error.Message);
    }

    [Fact]
    public async Task NastyNamesAndBinaryContentSurviveTheTrip()
    {
        var names = new[] { "it's", "a \"b\" c", "$(touch pwned)", "`id`;rm", "new\nline", "-rf", "*", "~", "back\\slash", "tab\there", "ünï", "%s" };
        var content = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[300_000]).Append((byte)'\n').ToArray();
        foreach (var name in names)
        {
            await Node.WriteFileAsync("/etc/odd/" + name, content, FileModes.Private);
        }

        var listed = await Node.ListDirectoryAsync("/etc/odd");
        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(e => e.Name));
        foreach (var name in names)
        {
            Assert.Equal(content, await Node.ReadFileAsync("/etc/odd/" + name));
            Assert.Equal(content, await File.ReadAllBytesAsync(Root.Host("/etc/odd/" + name)));
        }

        Assert.False(File.Exists(Path.Combine(Root.Path, "pwned")));
        Assert.False(File.Exists(Path.Combine(Root.Path, "etc", "odd", "pwned")));

        var echoed = await Node.RunAsync(["printf", "%s|", .. names]);
        Assert.Equal(string.Concat(names.Select(n => n + "|")), echoed.StandardOutput);
    }

    [Fact]
    public async Task ModifiedTimeMatchesTheFileSystemTo100Nanoseconds()
    {
        await Node.WriteFileAsync("/etc/kubernetes/admin.conf", "x"u8.ToArray(), FileModes.Private);
        var expected = new DateTimeOffset(File.GetLastWriteTimeUtc(Root.Host("/etc/kubernetes/admin.conf")), TimeSpan.Zero);
        Assert.Equal(expected, await Node.GetModifiedTimeAsync("/etc/kubernetes/admin.conf"));
        Assert.Null(await Node.GetModifiedTimeAsync("/etc/kubernetes/none.conf"));
    }
}
