namespace KubeCaRotate.Lab.ApiServer;

/// <summary>One REST resource the stand-in serves, with what discovery reports about it.</summary>
public sealed record ApiResource(
    string Group,
    string Version,
    string Name,
    string SingularName,
    string Kind,
    bool Namespaced,
    IReadOnlyList<string> ShortNames,
    IReadOnlyList<string> Subresources,
    IReadOnlyList<string> FieldLabels)
{
    public static readonly IReadOnlyList<string> Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"deployments.apps", or "secrets" for the core group: how Status messages name a resource.</summary>
    public string QualifiedName => Group.Length == 0 ? Name : $"{Name}.{Group}";

    /// <summary>The etcd key prefix, with a trailing slash: "/registry/secrets/".</summary>
    public string KeyPrefix => $"/registry/{(Group is "" or "apps" or "coordination.k8s.io" or "certificates.k8s.io" or "admissionregistration.k8s.io" ? "" : Group + "/")}{Name}/";

    public string Key(string? ns, string name) => Namespaced ? $"{KeyPrefix}{ns}/{name}" : KeyPrefix + name;

    public string CollectionPrefix(string? ns) => Namespaced && !string.IsNullOrEmpty(ns) ? $"{KeyPrefix}{ns}/" : KeyPrefix;

    /// <summary>Workloads whose metadata.generation counts spec changes.</summary>
    public bool TracksGeneration => Group == "apps" || Name is "pods" or "certificatesigningrequests";

    public bool HasStatus => Subresources.Contains("status");

    /// <summary>Whether a PUT without metadata.resourceVersion overwrites whatever is stored; Leases refuse it (their strategy's AllowUnconditionalUpdate is false), so lock holders cannot overwrite one another blindly.</summary>
    public bool AllowsUnconditionalUpdate => Name is not "leases";
}
