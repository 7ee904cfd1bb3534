using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

public sealed class LocalNodeTests : NodeAccessContract
{
    protected override INodeAccess Open(string name, string root) => new LocalNode(name, root);

    [Fact]
    public void AMissingRootIsRefused()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => new LocalNode("cp-9", "/no/such/root"));
        Assert.Contains("cp-9", error.Message);
    }
}
