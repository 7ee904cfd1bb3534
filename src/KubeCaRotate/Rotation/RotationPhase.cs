using System.Text.Json.Serialization;

namespace KubeCaRotate.Rotation;

/// <summary>The phases of DESIGN.md: idle → trusting → trusted → switching → switched → distrusting → completed; rolled-back from any before completed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RotationPhase>))]
public enum RotationPhase
{
    [JsonStringEnumMemberName("idle")] Idle,
    [JsonStringEnumMemberName("trusting")] Trusting,
    [JsonStringEnumMemberName("trusted")] Trusted,
    [JsonStringEnumMemberName("switching")] Switching,
    [JsonStringEnumMemberName("switched")] Switched,
    [JsonStringEnumMemberName("distrusting")] Distrusting,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("rolled-back")] RolledBack,
    [JsonStringEnumMemberName("rolling-back")] RollingBack,
}

/// <summary>rotate: a new key pair (the default); renew: the same key pair with a new validity, only the CA certificate is redistributed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RotationMode>))]
public enum RotationMode
{
    [JsonStringEnumMemberName("rotate")] Rotate,
    [JsonStringEnumMemberName("renew")] Renew,
}
