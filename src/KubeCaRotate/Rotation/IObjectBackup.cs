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
    /// <summary>Keeps the object as it is now (or that it is absent) under the rotation's backup on every control-plane node, unless a backup of it exists; true when this call made it.</summary>
    Task<bool> BackupAsync(string rotationId, ObjectTarget target, CancellationToken ct = default);

    /// <summary>Puts the backed-up object back exactly (its data, type, labels and annotations), or deletes it when it was absent; false when there is no backup of it.</summary>
    Task<bool> RestoreAsync(string rotationId, ObjectTarget target, CancellationToken ct = default);

    /// <summary>Every object backed up for the rotation.</summary>
    Task<IReadOnlyList<ObjectTarget>> BackedUpAsync(string rotationId, CancellationToken ct = default);
}
