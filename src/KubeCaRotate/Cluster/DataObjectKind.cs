using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>The kinds of API object whose data a rotation edits, backs up and restores: v1 ConfigMaps and Secrets.</summary>
public enum DataObjectKind
{
    ConfigMap,
    Secret,
}

/// <summary>Which <see cref="DataObjectKind"/> an <see cref="ObjectTarget"/> is, refusing anything else in one sentence.</summary>
public static class DataObjectKinds
{
    /// <summary>The kind of <paramref name="target"/>; a <see cref="RotationException"/> naming it when it is not a namespaced v1 ConfigMap or Secret with a plain name.</summary>
    public static DataObjectKind Of(ObjectTarget target)
    {
        DataObjectKind kind;
        if (target.ApiVersion == "v1" && target.Kind == "ConfigMap") kind = DataObjectKind.ConfigMap;
        else if (target.ApiVersion == "v1" && target.Kind == "Secret") kind = DataObjectKind.Secret;
        else throw new RotationException($"{target} ({target.ApiVersion}) is not an object the rotation can edit; only v1 ConfigMaps and Secrets are.");
        if (string.IsNullOrEmpty(target.Namespace))
            throw new RotationException($"{target} names no namespace; a {target.Kind} is namespaced, so give its namespace.");
        // Names become backup file names on the nodes: the API's own rules (DNS names) already exclude these.
        if (!IsPlainName(target.Namespace) || !IsPlainName(target.Name))
            throw new RotationException($"{target} is not a valid object name (a {target.Kind}'s namespace and name are DNS names without '/'); check the name.");
        return kind;
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !name.Contains('/') && !name.Contains('\0');
}
