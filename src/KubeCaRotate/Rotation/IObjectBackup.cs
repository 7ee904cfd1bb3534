namespace KubeCaRotate.Rotation;

/// <summary>A Kubernetes API object a step changes, e.g. ConfigMap kube-public/cluster-info.</summary>
public sealed record ObjectTarget(string ApiVersion, string Kind, string? Namespace, string Name)
{
    public override string ToString() => Namespace is null ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}

/// <summary>
/// Backups of API objects before their first change, kept like file backups (first original wins, restore exact). The
/// Cluster part implements it over the API (object JSON stored with <see cref="FileBackup"/> on the control-plane
/// nodes, never in the API: a Secret's data may be keys).
/// </summary>
public interface IObjectBackup
{
    Task<bool> BackupAsync(ObjectTarget target, CancellationToken ct = default);

    Task<bool> RestoreAsync(ObjectTarget target, CancellationToken ct = default);
}
