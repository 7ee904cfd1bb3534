using KubeCaRotate.Layout;

namespace KubeCaRotate.Tests.Layout;

public sealed class StaticPodManifestTests
{
    private static readonly ControlPlaneNodeSpec Node = new() { NodeName = "cp-1", AdvertiseAddress = "10.0.0.10" };

    private static string ApiServerText() => KubeadmManifests.KubeApiServer(Node).ToYaml();

    private static string[] Lines(string text) => text.Split('\n');

    [Fact]
    public void ReadsTheCommandAsBinaryAndFlags()
    {
        var manifest = StaticPodManifest.Parse(ApiServerText(), "kube-apiserver.yaml");

        Assert.Equal("kube-apiserver", manifest.Binary);
        Assert.Equal("kube-apiserver", manifest.PodName);
        Assert.Equal("/etc/kubernetes/pki/ca.crt", manifest.GetFlag("client-ca-file"));
        Assert.Null(manifest.GetFlag("kubelet-certificate-authority"));
        Assert.Equal("NodeRestriction", manifest.Flags.Single(f => f.Name == "enable-admission-plugins").Value);
    }

    [Fact]
    public void ChangingAFlagChangesThatLineOnlyAndKeepsOrder()
    {
        var original = ApiServerText();
        var manifest = StaticPodManifest.Parse(original);
        var orderBefore = manifest.Flags.Select(f => f.Name).ToList();

        Assert.True(manifest.SetFlag("client-ca-file", "/etc/kubernetes/pki/ca-bundle.crt"));

        var changed = manifest.ToYaml();
        Assert.NotEqual(original, changed);
        var differing = Lines(original).Zip(Lines(changed)).Where(pair => pair.First != pair.Second).ToList();
        Assert.Equal(Lines(original).Length, Lines(changed).Length);
        Assert.Equal(("    - --client-ca-file=/etc/kubernetes/pki/ca.crt", "    - --client-ca-file=/etc/kubernetes/pki/ca-bundle.crt"), Assert.Single(differing));
        Assert.Equal(orderBefore, StaticPodManifest.Parse(changed).Flags.Select(f => f.Name));
    }

    [Fact]
    public void SettingAFlagToItsValueLeavesTheTextByteIdentical()
    {
        // Hand-written spacing and a comment: anything re-written would show.
        const string text = "apiVersion: v1\nkind: Pod\nmetadata:\n    name: etcd   # the etcd member\nspec:\n    containers:\n      - name: etcd\n        command: [etcd, \"--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt\"]\n";
        var manifest = StaticPodManifest.Parse(text);

        Assert.False(manifest.SetFlag("trusted-ca-file", "/etc/kubernetes/pki/etcd/ca.crt"));
        Assert.False(manifest.RemoveFlag("no-such-flag"));
        Assert.False(manifest.RemoveAnnotation("none"));

        Assert.False(manifest.IsChanged);
        Assert.Equal(text, manifest.ToYaml());
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString(manifest.ToBytes()));
    }

    [Fact]
    public void SetAppendsAbsentFlagsAndRemoveTakesEveryOccurrence()
    {
        var manifest = StaticPodManifest.Parse(ApiServerText());

        Assert.True(manifest.SetFlag("kubelet-certificate-authority", "/etc/kubernetes/pki/ca.crt"));
        Assert.Equal("--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt", manifest.Command[^1]);

        Assert.True(manifest.RemoveFlag("client-ca-file"));
        var reread = StaticPodManifest.Parse(manifest.ToYaml());
        Assert.False(reread.HasFlag("client-ca-file"));
        Assert.Equal("/etc/kubernetes/pki/ca.crt", reread.GetFlag("kubelet-certificate-authority"));
        Assert.Equal(KubeadmManifests.KubeApiServerFlags(Node).Count, reread.Flags.Count);
    }

    [Fact]
    public void RepeatedFlagsAreReadAllAndSetOnce()
    {
        var manifest = StaticPodManifest.Parse(ApiServerText());
        manifest.SetFlag("service-account-key-file", "/etc/kubernetes/pki/sa.pub");
        var yaml = manifest.ToYaml().Replace(
            "    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n",
            "    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n    - --service-account-key-file=/etc/kubernetes/pki/sa-new.pub\n",
            StringComparison.Ordinal);
        manifest = StaticPodManifest.Parse(yaml);

        Assert.Equal(["/etc/kubernetes/pki/sa.pub", "/etc/kubernetes/pki/sa-new.pub"], manifest.GetFlagValues("service-account-key-file"));
        Assert.True(manifest.SetFlag("service-account-key-file", "/etc/kubernetes/pki/sa.pub"));
        Assert.Equal(["/etc/kubernetes/pki/sa.pub"], StaticPodManifest.Parse(manifest.ToYaml()).GetFlagValues("service-account-key-file"));
    }

    [Fact]
    public void AnnotationsAreReadAndSetWithoutLosingAnything()
    {
        var original = ApiServerText();
        var manifest = StaticPodManifest.Parse(original);
        Assert.Equal("10.0.0.10:6443", manifest.GetAnnotation(KubeadmManifests.AdvertiseAddressEndpointAnnotation));

        Assert.True(manifest.SetAnnotation("kube-ca-rotate.io/restarted-at", "2026-01-01T00:00:00Z"));
        Assert.True(manifest.SetAnnotation("kube-ca-rotate.io/step", "1"));

        var reread = StaticPodManifest.Parse(manifest.ToYaml());
        Assert.Equal("2026-01-01T00:00:00Z", reread.GetAnnotation("kube-ca-rotate.io/restarted-at"));
        Assert.Equal("1", reread.GetAnnotation("kube-ca-rotate.io/step"));
        Assert.Contains("kube-ca-rotate.io/step: \"1\"", manifest.ToYaml());
        Assert.Equal(StaticPodManifest.Parse(original).Command, reread.Command);
        Assert.Equal("control-plane", reread.Labels["tier"]);
        Assert.False(reread.SetAnnotation("kube-ca-rotate.io/step", "1"));
    }

    [Fact]
    public void SettingAnAnnotationCreatesTheMapWhenAbsent()
    {
        var manifest = StaticPodManifest.Parse(KubeadmManifests.KubeScheduler(Node).ToYaml());
        Assert.Empty(manifest.Annotations);

        manifest.SetAnnotation("kube-ca-rotate.io/ca", "new");

        var reread = StaticPodManifest.Parse(manifest.ToYaml());
        Assert.Equal("new", reread.GetAnnotation("kube-ca-rotate.io/ca"));
        Assert.Equal("kube-scheduler", reread.PodName);
    }

    [Fact]
    public void ListsHostPathVolumesAndMounts()
    {
        var manifest = StaticPodManifest.Parse(KubeadmManifests.KubeControllerManager(Node).ToYaml());

        Assert.Contains(new HostPathVolume("k8s-certs", "/etc/kubernetes/pki", "DirectoryOrCreate"), manifest.HostPathVolumes);
        Assert.Contains(new HostPathVolume("kubeconfig", "/etc/kubernetes/controller-manager.conf", "FileOrCreate"), manifest.HostPathVolumes);
        Assert.Contains(new ContainerVolumeMount("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", false), manifest.VolumeMounts);
        Assert.Contains(new ContainerVolumeMount("k8s-certs", "/etc/kubernetes/pki", true), manifest.VolumeMounts);
        Assert.Equal("/etc/kubernetes/pki/ca-new.crt", manifest.GetHostPathFor("/etc/kubernetes/pki/ca-new.crt"));
        Assert.Null(manifest.GetHostPathFor("/var/lib/other/ca.crt"));
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: ConfigMap\n", "kind is 'ConfigMap'")]
    [InlineData("apiVersion: v1\nkind: Pod\nspec: {}\n", "no spec.containers")]
    [InlineData("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    args: [a]\n", "no command list")]
    [InlineData("kind: Pod\nspec: [\n", "not valid YAML")]
    public void NotAManifestIsOneClearSentenceNamingTheFile(string yaml, string problem)
    {
        var error = Assert.Throws<LayoutFormatException>(() => StaticPodManifest.Parse(yaml, "/etc/kubernetes/manifests/etcd.yaml"));
        Assert.Contains("/etc/kubernetes/manifests/etcd.yaml", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Theory]
    [InlineData("--client-ca-file")]
    [InlineData("client-ca-file=x")]
    public void FlagNamesAreGivenBare(string name)
    {
        var manifest = StaticPodManifest.Parse(ApiServerText());
        Assert.Throws<ArgumentException>(() => manifest.SetFlag(name, "x"));
    }

    [Fact]
    public void ApiServerExtraArgsReplaceKubeadmsFlagOfTheSameNameOrAreAdded()
    {
        var plain = KubeadmManifests.KubeApiServerFlags(Node);
        var extra = KubeadmManifests.KubeApiServerFlags(Node with
        {
            ApiServerExtraArgs = new Dictionary<string, string> { ["shutdown-delay-duration"] = "3s", ["authorization-mode"] = "Node,RBAC,Webhook" },
        });
        Assert.Contains("--shutdown-delay-duration=3s", extra);
        Assert.Contains("--authorization-mode=Node,RBAC,Webhook", extra);
        Assert.DoesNotContain("--authorization-mode=Node,RBAC", extra);
        Assert.Equal(plain.Count + 1, extra.Count);
    }
}
