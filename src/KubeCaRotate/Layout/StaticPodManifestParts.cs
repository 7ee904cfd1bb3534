namespace KubeCaRotate.Layout;

/// <summary>One "--name=value" element of a container command; Value is null for a bare "--name".</summary>
public sealed record ManifestFlag(string Name, string? Value);

/// <summary>A hostPath volume of a static pod: its name, the node path and the hostPath type.</summary>
public sealed record HostPathVolume(string Name, string Path, string? Type);

/// <summary>A volume mount of the pod's first container.</summary>
public sealed record ContainerVolumeMount(string Name, string MountPath, bool ReadOnly);
