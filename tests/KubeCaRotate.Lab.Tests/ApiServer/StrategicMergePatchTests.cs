using System.Text.Json.Nodes;
using KubeCaRotate.Lab.ApiServer;

namespace KubeCaRotate.Lab.Tests.ApiServer;

public sealed class StrategicMergePatchTests
{
    private static readonly JsonObject Pod = JsonNode.Parse("""
        {"metadata":{"name":"p","labels":{"a":"1","b":"2"},"finalizers":["f1"]},
         "spec":{"containers":[
            {"name":"one","image":"i1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}],"ports":[{"containerPort":80,"name":"http"}],
             "volumeMounts":[{"name":"v","mountPath":"/a"}]},
            {"name":"two","image":"i2"}],
          "volumes":[{"name":"v","emptyDir":{}}],
          "tolerations":[{"key":"k1"}]}}
        """)!.AsObject();

    private static JsonObject Apply(string patch) => StrategicMergePatch.Apply(Pod, JsonNode.Parse(patch)!.AsObject());

    [Fact]
    public void ContainersMergeByNameAndEnvByName()
    {
        var result = Apply("""{"spec":{"containers":[{"name":"two","image":"i2b"},{"name":"one","env":[{"name":"Y","value":"3"},{"name":"Z","value":"4"}]}]}}""");
        var containers = result["spec"]!["containers"]!.AsArray();
        Assert.Equal(["one", "two"], containers.Select(c => (string?)c!["name"]));
        Assert.Equal("i1", (string?)containers[0]!["image"]);
        Assert.Equal("i2b", (string?)containers[1]!["image"]);
        Assert.Equal(["X=1", "Y=3", "Z=4"], containers[0]!["env"]!.AsArray().Select(e => $"{e!["name"]}={e["value"]}"));
        Assert.Equal("/a", (string?)containers[0]!["volumeMounts"]![0]!["mountPath"]);
    }

    [Fact]
    public void PatchDeleteDirectiveRemovesAListItemByItsKey()
    {
        var result = Apply("""{"spec":{"containers":[{"name":"two","$patch":"delete"}],"volumes":[{"name":"v","$patch":"delete"}]}}""");
        Assert.Equal(["one"], result["spec"]!["containers"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Empty(result["spec"]!["volumes"]!.AsArray());
    }

    [Fact]
    public void PortsMergeByContainerPortAndMountsByMountPath()
    {
        var result = Apply("""{"spec":{"containers":[{"name":"one","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}],"volumeMounts":[{"name":"w","mountPath":"/b"}]}]}}""");
        var one = result["spec"]!["containers"]![0]!;
        Assert.Equal(["80:http:TCP", "443::"], one["ports"]!.AsArray().Select(p => $"{p!["containerPort"]}:{p["name"]}:{p["protocol"]}"));
        Assert.Equal(["/a", "/b"], one["volumeMounts"]!.AsArray().Select(m => (string?)m!["mountPath"]));
    }

    [Fact]
    public void ListsWithoutAMergeKeyAreReplacedAndNullDeletes()
    {
        var result = Apply("""{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"tolerations":[{"key":"k2"}]}}""");
        Assert.Equal("""{"b":"2","c":"3"}""", result["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("""[{"key":"k2"}]""", result["spec"]!["tolerations"]!.ToJsonString());
    }

    [Fact]
    public void ReplaceDirectiveOnAMapAndOnAList()
    {
        var map = Apply("""{"metadata":{"labels":{"$patch":"replace","only":"this"}}}""");
        Assert.Equal("""{"only":"this"}""", map["metadata"]!["labels"]!.ToJsonString());
        var list = Apply("""{"spec":{"containers":[{"name":"three","image":"i3"},{"$patch":"replace"}]}}""");
        Assert.Equal(["three"], list["spec"]!["containers"]!.AsArray().Select(c => (string?)c!["name"]));
    }

    [Fact]
    public void FinalizersMergeAsASetAndDirectivesForOrderAreIgnored()
    {
        var result = Apply("""{"metadata":{"finalizers":["f2","f1"]},"spec":{"$setElementOrder/containers":[{"name":"two"},{"name":"one"}]}}""");
        Assert.Equal("""["f1","f2"]""", result["metadata"]!["finalizers"]!.ToJsonString());
        Assert.Equal(2, result["spec"]!["containers"]!.AsArray().Count);
        var removed = Apply("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["f1"]}}""");
        Assert.Equal("[]", removed["metadata"]!["finalizers"]!.ToJsonString());
    }

    [Fact]
    public void TheOriginalIsNotChanged()
    {
        var before = Pod.ToJsonString();
        Apply("""{"spec":{"containers":[{"name":"one","image":"changed"}]}}""");
        Assert.Equal(before, Pod.ToJsonString());
    }
}
