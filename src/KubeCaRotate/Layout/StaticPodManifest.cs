using YamlDotNet.RepresentationModel;
using static KubeCaRotate.Layout.YamlNodes;

namespace KubeCaRotate.Layout;

/// <summary>
/// A static pod manifest (/etc/kubernetes/manifests/*.yaml) kept as a whole document. The first container's
/// <c>command</c> is read as a binary followed by "--name=value" flags that can be read, set and removed in
/// place; pod annotations can be read and set. Any content change changes the text (so the kubelet restarts
/// the pod); setting a flag or annotation to its current value leaves the text byte for byte the same.
/// </summary>
public sealed class StaticPodManifest
{
    private const string Kind = "static pod manifest";
    private readonly YamlDocument _document;
    private readonly YamlSequenceNode _command;
    private readonly YamlMappingNode _container;

    private StaticPodManifest(YamlDocument document, string? sourceName)
    {
        _document = document;
        SourceName = sourceName;
        var root = document.Root;
        var kind = Scalar(root, "kind");
        if (kind is not null && kind != "Pod")
        {
            throw Invalid($"its kind is '{kind}', not 'Pod'");
        }

        var containers = Mapping(root, "spec") is { } spec ? Sequence(spec, "containers") : null;
        if (containers is null || containers.Children.Count == 0 || containers.Children[0] is not YamlMappingNode container)
        {
            throw Invalid("it has no spec.containers list");
        }

        _container = container;
        _command = Sequence(container, "command") is { Children.Count: > 0 } command && command.Children.All(c => c is YamlScalarNode)
            ? command
            : throw Invalid($"its first container ('{Scalar(container, "name")}') has no command list of strings");
    }

    /// <summary>The file name given when parsing, for messages.</summary>
    public string? SourceName { get; }

    public bool IsChanged => _document.IsChanged;

    public static StaticPodManifest Parse(string yaml, string? sourceName = null) =>
        new(YamlDocument.Parse(yaml, sourceName, Kind), sourceName);

    public static StaticPodManifest Parse(byte[] content, string? sourceName = null) =>
        new(YamlDocument.Parse(content, sourceName, Kind), sourceName);

    /// <summary>metadata.name, e.g. kube-apiserver.</summary>
    public string? PodName => Mapping(_document.Root, "metadata") is { } metadata ? Scalar(metadata, "name") : null;

    public string? ContainerName => Scalar(_container, "name");

    public string? Image => Scalar(_container, "image");

    /// <summary>The first element of the command: the program, e.g. kube-apiserver or etcd.</summary>
    public string Binary => ((YamlScalarNode)_command.Children[0]).Value ?? "";

    /// <summary>The whole command, program first.</summary>
    public IReadOnlyList<string> Command => _command.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList();

    /// <summary>The "--name[=value]" elements of the command, in order.</summary>
    public IReadOnlyList<ManifestFlag> Flags =>
        _command.Children.Skip(1).Select(c => ParseFlag(((YamlScalarNode)c).Value ?? "")).OfType<ManifestFlag>().ToList();

    public bool HasFlag(string name) => Flags.Any(f => f.Name == name);

    /// <summary>The value of the first occurrence of a flag, "" for a bare flag, or null when absent.</summary>
    public string? GetFlag(string name) => Flags.FirstOrDefault(f => f.Name == name) is { } flag ? flag.Value ?? "" : null;

    /// <summary>Every value of a flag that is given more than once (e.g. --service-account-key-file).</summary>
    public IReadOnlyList<string> GetFlagValues(string name) => Flags.Where(f => f.Name == name).Select(f => f.Value ?? "").ToList();

    /// <summary>
    /// Sets a flag in its place (the first occurrence; later repeats are removed), or appends it when absent.
    /// Returns whether the command changed.
    /// </summary>
    public bool SetFlag(string name, string value)
    {
        ValidateFlagName(name);
        ArgumentNullException.ThrowIfNull(value);
        var text = $"--{name}={value}";
        var indices = FlagIndices(name);
        if (indices.Count == 0)
        {
            _command.Children.Add(String(text));
            _document.MarkChanged();
            return true;
        }

        var first = (YamlScalarNode)_command.Children[indices[0]];
        var changed = false;
        if (first.Value != text)
        {
            first.Value = text;
            changed = true;
        }

        for (var i = indices.Count - 1; i >= 1; i--)
        {
            _command.Children.RemoveAt(indices[i]);
            changed = true;
        }

        if (changed)
        {
            _document.MarkChanged();
        }

        return changed;
    }

    /// <summary>Removes every occurrence of a flag. Returns whether there was one.</summary>
    public bool RemoveFlag(string name)
    {
        ValidateFlagName(name);
        var indices = FlagIndices(name);
        for (var i = indices.Count - 1; i >= 0; i--)
        {
            _command.Children.RemoveAt(indices[i]);
        }

        if (indices.Count > 0)
        {
            _document.MarkChanged();
        }

        return indices.Count > 0;
    }

    /// <summary>metadata.annotations.</summary>
    public IReadOnlyDictionary<string, string> Annotations => StringMap("annotations");

    /// <summary>metadata.labels.</summary>
    public IReadOnlyDictionary<string, string> Labels => StringMap("labels");

    public string? GetAnnotation(string name) => Annotations.TryGetValue(name, out var value) ? value : null;

    /// <summary>Sets a pod annotation, creating metadata.annotations when needed. Returns whether it changed.</summary>
    public bool SetAnnotation(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (GetAnnotation(name) == value)
        {
            return false;
        }

        var metadata = EnsureMapping(_document.Root, "metadata");
        var annotations = EnsureMapping(metadata, "annotations");
        SetScalar(annotations, name, value);
        _document.MarkChanged();
        return true;
    }

    public bool RemoveAnnotation(string name)
    {
        if (Mapping(_document.Root, "metadata") is { } metadata && Mapping(metadata, "annotations") is { } annotations &&
            Remove(annotations, name))
        {
            _document.MarkChanged();
            return true;
        }

        return false;
    }

    /// <summary>The pod's hostPath volumes, in order.</summary>
    public IReadOnlyList<HostPathVolume> HostPathVolumes =>
        (Mapping(_document.Root, "spec") is { } spec && Sequence(spec, "volumes") is { } volumes ? volumes.Children : [])
        .OfType<YamlMappingNode>()
        .Where(v => Mapping(v, "hostPath") is not null)
        .Select(v => new HostPathVolume(Scalar(v, "name") ?? "", Scalar(Mapping(v, "hostPath")!, "path") ?? "", Scalar(Mapping(v, "hostPath")!, "type")))
        .ToList();

    /// <summary>The first container's volume mounts, in order.</summary>
    public IReadOnlyList<ContainerVolumeMount> VolumeMounts =>
        (Sequence(_container, "volumeMounts")?.Children ?? [])
        .OfType<YamlMappingNode>()
        .Select(m => new ContainerVolumeMount(Scalar(m, "name") ?? "", Scalar(m, "mountPath") ?? "", Scalar(m, "readOnly") is "true" or "True"))
        .ToList();

    /// <summary>The node path a container path is mounted from, through the hostPath volumes; null when not mounted.</summary>
    public string? GetHostPathFor(string containerPath)
    {
        var volumes = HostPathVolumes.ToDictionary(v => v.Name, v => v.Path);
        foreach (var mount in VolumeMounts.OrderByDescending(m => m.MountPath.Length))
        {
            var prefix = mount.MountPath.TrimEnd('/');
            if ((containerPath == prefix || containerPath.StartsWith(prefix + "/", StringComparison.Ordinal)) &&
                volumes.TryGetValue(mount.Name, out var hostPath))
            {
                return hostPath.TrimEnd('/') + containerPath[prefix.Length..];
            }
        }

        return null;
    }

    /// <summary>The manifest as YAML: the original text when nothing changed.</summary>
    public string ToYaml() => _document.ToYaml();

    public byte[] ToBytes() => YamlDocument.Encode(ToYaml());

    public override string ToString() => SourceName ?? PodName ?? "static pod manifest";

    private static ManifestFlag? ParseFlag(string element)
    {
        if (!element.StartsWith("--", StringComparison.Ordinal) || element.Length == 2)
        {
            return null;
        }

        var equals = element.IndexOf('=');
        return equals < 0 ? new ManifestFlag(element[2..], null) : new ManifestFlag(element[2..equals], element[(equals + 1)..]);
    }

    private List<int> FlagIndices(string name)
    {
        var indices = new List<int>();
        for (var i = 1; i < _command.Children.Count; i++)
        {
            if (ParseFlag(((YamlScalarNode)_command.Children[i]).Value ?? "")?.Name == name)
            {
                indices.Add(i);
            }
        }

        return indices;
    }

    private static void ValidateFlagName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.StartsWith('-') || name.Contains('='))
        {
            throw new ArgumentException($"Give the flag name without dashes or '=' (for example client-ca-file), not '{name}'.", nameof(name));
        }
    }

    private IReadOnlyDictionary<string, string> StringMap(string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Mapping(_document.Root, "metadata") is { } metadata && Mapping(metadata, key) is { } map)
        {
            foreach (var pair in map.Children)
            {
                if (pair.Key is YamlScalarNode k && k.Value is not null && pair.Value is YamlScalarNode v)
                {
                    result[k.Value] = v.Value ?? "";
                }
            }
        }

        return result;
    }

    private LayoutFormatException Invalid(string problem)
    {
        var what = SourceName is null ? "The static pod manifest" : $"The static pod manifest {SourceName}";
        return new LayoutFormatException($"{what} is not usable: {problem}. Give a kubeadm static pod manifest.", SourceName);
    }
}
