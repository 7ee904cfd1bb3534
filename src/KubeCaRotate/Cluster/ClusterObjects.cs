namespace KubeCaRotate.Cluster;

/// <summary>The API objects that matter for trust, read at one moment.</summary>
public sealed record ClusterObjects
{
    /// <summary>Every object field that holds a PEM certificate.</summary>
    public IReadOnlyList<ObjectCaData> CaData { get; init; } = [];

    public IReadOnlyList<PodFacts> Pods { get; init; } = [];

    public IReadOnlyList<NodeFacts> Nodes { get; init; } = [];

    public IReadOnlyList<ApiServiceFacts> ApiServices { get; init; } = [];

    /// <summary>Names of the namespaces seen (every one should hold kube-root-ca.crt).</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    /// <summary>requestheader-allowed-names of extension-apiserver-authentication (the CNs allowed to act as front proxy).</summary>
    public IReadOnlyList<string> RequestHeaderAllowedNames { get; init; } = [];

    public ObjectCaData? Find(ObjectRef obj, string field) => CaData.FirstOrDefault(d => d.Object == obj && d.Field == field);

    public static readonly ObjectRef ExtensionApiserverAuthentication = new("ConfigMap", "kube-system", "extension-apiserver-authentication");

    public static readonly ObjectRef ClusterInfo = new("ConfigMap", "kube-public", "cluster-info");

    public static ObjectRef KubeRootCa(string ns) => new("ConfigMap", ns, "kube-root-ca.crt");
}
