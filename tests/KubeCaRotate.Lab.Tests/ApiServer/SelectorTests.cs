using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ApiServer;

namespace KubeCaRotate.Lab.Tests.ApiServer;

public sealed class SelectorTests
{
    private static readonly JsonObject Pod = JsonNode.Parse("""
        {"metadata":{"name":"p1","namespace":"ns","labels":{"app":"web","tier":"front"}},"spec":{"nodeName":"cp-1"},"status":{"phase":"Running"}}
        """)!.AsObject();

    private static readonly ApiResource Pods = ApiResourceCatalog.Find("", "v1", "pods")!;

    [Theory]
    [InlineData("", true)]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app!=web", false)]
    [InlineData("app!=db", true)]
    [InlineData("app in (db, web)", true)]
    [InlineData("app notin (db,web)", false)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("!missing,app=web", true)]
    [InlineData("missing", false)]
    [InlineData("missing!=x", true)]
    [InlineData("missing in (x)", false)]
    [InlineData("app=web,tier=back", false)]
    public void LabelSelectorMatches(string selector, bool matches) => Assert.Equal(matches, KubeCaRotate.Lab.ApiServer.LabelSelector.Parse(selector).Matches(Pod));

    [Theory]
    [InlineData("app in web")]
    [InlineData("=web")]
    public void MalformedLabelSelectorIsABadRequest(string selector) =>
        Assert.Equal(400, Assert.Throws<ApiStatusException>(() => KubeCaRotate.Lab.ApiServer.LabelSelector.Parse(selector)).Code);

    [Theory]
    [InlineData("metadata.name=p1", true)]
    [InlineData("metadata.name!=p1", false)]
    [InlineData("metadata.namespace==ns,spec.nodeName=cp-1", true)]
    [InlineData("status.phase=Pending", false)]
    [InlineData("spec.nodeName=", false)]
    public void FieldSelectorMatches(string selector, bool matches) => Assert.Equal(matches, KubeCaRotate.Lab.ApiServer.FieldSelector.Parse(selector, Pods).Matches(Pod));

    [Fact]
    public void UnsupportedFieldLabelIsABadRequest()
    {
        var e = Assert.Throws<ApiStatusException>(() => KubeCaRotate.Lab.ApiServer.FieldSelector.Parse("spec.hostname=x", Pods));
        Assert.Equal(400, e.Code);
        Assert.Contains("spec.hostname", e.Message);
    }
}
