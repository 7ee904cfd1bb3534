using System.Text.Json;
using k8s;
using k8s.Models;
using KubeCaRotate.Nodes;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Backups of the ConfigMaps and Secrets a rotation changes, kept as files on every control-plane node, never in the
/// API (a Secret's data may be keys, so every file is 0600):
/// <code>&lt;BackupDir(rotationId)&gt;/objects/&lt;kind&gt;/&lt;namespace&gt;/&lt;name&gt;.json</code>
/// The first original wins: once any node holds a backup of an object it is never taken again, only copied to the
/// nodes that lack it (a run killed between two nodes). Restoring replaces the object with the backed-up data, type,
/// labels and annotations (server-set metadata dropped), creates it when it is gone, or deletes it when it was absent.
/// </summary>
public sealed class ClusterObjectBackup(RotationApiConnection connection, RotationNodes nodes, RotationPaths paths, TimeProvider time) : IObjectBackup
{
    private const int RaceAttempts = 5;

    /// <summary>The node path of the backup of <paramref name="target"/>.</summary>
    public string PathOf(string rotationId, ObjectTarget target) =>
        NodePath.Combine(ObjectsDir(rotationId), target.Kind, target.Namespace ?? "_cluster", target.Name + ".json");

    public async Task<bool> BackupAsync(string rotationId, ObjectTarget target, CancellationToken ct = default)
    {
        var kind = DataObjectKinds.Of(target);
        var path = PathOf(rotationId, target);
        var copies = new List<(RotationNode Node, byte[]? Bytes)>();
        foreach (var cp in nodes.ControlPlanes)
            copies.Add((cp, await cp.Access.ReadFileAsync(path, ct).ConfigureAwait(false)));

        var kept = copies.FirstOrDefault(c => c.Bytes is not null).Bytes;
        if (kept is not null)
        {
            ObjectBackupEntry.Parse(kept, $"{copies.First(c => c.Bytes is not null).Node.Name}:{path}");
            foreach (var (node, _) in copies.Where(c => c.Bytes is null))
                await node.Access.WriteFileAsync(path, kept, FileModes.Private, ct).ConfigureAwait(false);
            return false;
        }

        object? current = kind == DataObjectKind.ConfigMap
            ? await connection.CallAsync((api, t) => api.GetConfigMapAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false)
            : await connection.CallAsync((api, t) => api.GetSecretAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
        JsonElement? json = current is null ? null : JsonDocument.Parse(KubernetesJson.Serialize(current)).RootElement.Clone();
        var entry = new ObjectBackupEntry(target.ApiVersion, target.Kind, target.Namespace, target.Name, current is not null, time.GetUtcNow(), json);
        var bytes = entry.ToJson();
        foreach (var cp in nodes.ControlPlanes)
            await cp.Access.WriteFileAsync(path, bytes, FileModes.Private, ct).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> RestoreAsync(string rotationId, ObjectTarget target, CancellationToken ct = default)
    {
        var kind = DataObjectKinds.Of(target);
        var entry = await ReadEntryAsync(rotationId, target, ct).ConfigureAwait(false);
        if (entry is null) return false;
        if (!entry.Existed)
        {
            await (kind == DataObjectKind.ConfigMap
                ? connection.CallAsync((api, t) => api.DeleteConfigMapAsync(target.Namespace!, target.Name, t), ct)
                : connection.CallAsync((api, t) => api.DeleteSecretAsync(target.Namespace!, target.Name, t), ct)).ConfigureAwait(false);
            return true;
        }
        var raw = entry.Object!.Value.GetRawText();
        if (kind == DataObjectKind.ConfigMap)
            await RestoreConfigMapAsync(target, KubernetesJson.Deserialize<V1ConfigMap>(raw), ct).ConfigureAwait(false);
        else
            await RestoreSecretAsync(target, KubernetesJson.Deserialize<V1Secret>(raw), ct).ConfigureAwait(false);
        return true;
    }

    public async Task<IReadOnlyList<ObjectTarget>> BackedUpAsync(string rotationId, CancellationToken ct = default)
    {
        var found = new Dictionary<string, ObjectTarget>(StringComparer.Ordinal);
        foreach (var cp in nodes.ControlPlanes)
        {
            foreach (var path in await FilesUnderAsync(cp.Access, ObjectsDir(rotationId), ct).ConfigureAwait(false))
            {
                if (found.ContainsKey(path)) continue;
                var bytes = await cp.Access.ReadFileAsync(path, ct).ConfigureAwait(false);
                if (bytes is not null) found[path] = ObjectBackupEntry.Parse(bytes, $"{cp.Name}:{path}").Target;
            }
        }
        return found.Values.OrderBy(t => t.ToString(), StringComparer.Ordinal).ToList();
    }

    private string ObjectsDir(string rotationId) => NodePath.Combine(paths.BackupDir(rotationId), "objects");

    /// <summary>The entry from the first control-plane node that holds it; unreachable nodes are skipped unless none answers.</summary>
    private async Task<ObjectBackupEntry?> ReadEntryAsync(string rotationId, ObjectTarget target, CancellationToken ct)
    {
        var path = PathOf(rotationId, target);
        var failures = new List<string>();
        foreach (var cp in nodes.ControlPlanes)
        {
            byte[]? bytes;
            try
            {
                bytes = await cp.Access.ReadFileAsync(path, ct).ConfigureAwait(false);
            }
            catch (NodeAccessException e)
            {
                failures.Add(e.Message.TrimEnd('.'));
                continue;
            }
            if (bytes is not null) return ObjectBackupEntry.Parse(bytes, $"{cp.Name}:{path}");
        }
        if (failures.Count == nodes.ControlPlanes.Count)
            throw new RotationException($"No control-plane node could be read for the backup of {target} ({string.Join("; ", failures)}); make a control-plane node reachable and run again.");
        return null;
    }

    private async Task RestoreConfigMapAsync(ObjectTarget target, V1ConfigMap backup, CancellationToken ct)
    {
        var desired = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Restorable(backup.Metadata, target),
            Data = backup.Data,
            BinaryData = backup.BinaryData,
            Immutable = backup.Immutable,
        };
        for (var attempt = 1; attempt <= RaceAttempts; attempt++)
        {
            var current = await connection.CallAsync((api, t) => api.GetConfigMapAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
            if (current is not null)
            {
                // An immutable ConfigMap cannot be edited, only replaced by a new one.
                if (current.Immutable == true)
                    await connection.CallAsync((api, t) => api.DeleteConfigMapAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
                else if (await connection.CallAsync((api, t) => api.ReplaceConfigMapAsync(desired, t), ct).ConfigureAwait(false) is not null)
                    return;
            }
            if (await connection.CallAsync((api, t) => api.TryCreateConfigMapAsync(desired, t), ct).ConfigureAwait(false) is not null)
                return;
        }
        throw new RotationException($"{target} kept changing while it was restored from its backup; stop whatever writes it and run the rollback again.");
    }

    private async Task RestoreSecretAsync(ObjectTarget target, V1Secret backup, CancellationToken ct)
    {
        var desired = new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = Restorable(backup.Metadata, target),
            Data = backup.Data,
            Type = backup.Type,
            Immutable = backup.Immutable,
        };
        for (var attempt = 1; attempt <= RaceAttempts; attempt++)
        {
            var current = await connection.CallAsync((api, t) => api.GetSecretAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
            if (current is not null)
            {
                // A Secret's type cannot change and an immutable Secret cannot be edited: both are replaced by a new one.
                if (current.Immutable == true || (current.Type ?? "Opaque") != (backup.Type ?? "Opaque"))
                    await connection.CallAsync((api, t) => api.DeleteSecretAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
                else if (await connection.CallAsync((api, t) => api.ReplaceSecretAsync(desired, t), ct).ConfigureAwait(false) is not null)
                    return;
            }
            if (await connection.CallAsync((api, t) => api.TryCreateSecretAsync(desired, t), ct).ConfigureAwait(false) is not null)
                return;
        }
        throw new RotationException($"{target} kept changing while it was restored from its backup; stop whatever writes it and run the rollback again.");
    }

    /// <summary>The backed-up metadata without what the API server sets (resourceVersion, uid, managedFields, timestamps): an unconditional replace or a create.</summary>
    private static V1ObjectMeta Restorable(V1ObjectMeta? meta, ObjectTarget target) => new()
    {
        Name = target.Name,
        NamespaceProperty = target.Namespace,
        Labels = meta?.Labels,
        Annotations = meta?.Annotations,
        OwnerReferences = meta?.OwnerReferences,
        Finalizers = meta?.Finalizers,
    };

    private static async Task<IReadOnlyList<string>> FilesUnderAsync(INodeAccess node, string dir, CancellationToken ct)
    {
        var result = new List<string>();
        foreach (var e in await node.ListDirectoryAsync(dir, ct).ConfigureAwait(false))
        {
            if (e.Kind == NodeEntryKind.Directory) result.AddRange(await FilesUnderAsync(node, e.Path, ct).ConfigureAwait(false));
            else if (e.Name.EndsWith(".json", StringComparison.Ordinal)) result.Add(e.Path);
        }
        return result;
    }
}
