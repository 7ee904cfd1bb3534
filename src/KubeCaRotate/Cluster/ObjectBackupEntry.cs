using System.Text.Json;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// One backed-up API object as stored on the control-plane nodes: which object, whether it existed, when it was kept,
/// and its JSON exactly as the API answered (null when it was absent).
/// </summary>
public sealed record ObjectBackupEntry(string ApiVersion, string Kind, string? Namespace, string Name, bool Existed, DateTimeOffset BackedUpAt, JsonElement? Object)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public ObjectTarget Target => new(ApiVersion, Kind, Namespace, Name);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>Reads an entry; a damaged file is a <see cref="RotationException"/> naming <paramref name="source"/>.</summary>
    public static ObjectBackupEntry Parse(byte[] json, string source)
    {
        ObjectBackupEntry? entry;
        try
        {
            entry = JsonSerializer.Deserialize<ObjectBackupEntry>(json, Options);
        }
        catch (JsonException e)
        {
            throw new RotationException($"The object backup {source} is not valid JSON ({e.Message.TrimEnd('.')}); copy it from another control-plane node's backup.", e);
        }
        if (entry is null || string.IsNullOrEmpty(entry.Kind) || string.IsNullOrEmpty(entry.Name) || entry.Existed != entry.Object is { ValueKind: JsonValueKind.Object })
            throw new RotationException($"The object backup {source} is incomplete (it needs kind, name, and the object when it existed); copy it from another control-plane node's backup.");
        return entry;
    }
}
