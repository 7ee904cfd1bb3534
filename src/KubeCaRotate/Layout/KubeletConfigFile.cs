using System.Globalization;
using YamlDotNet.RepresentationModel;
using static KubeCaRotate.Layout.YamlNodes;

namespace KubeCaRotate.Layout;

/// <summary>
/// /var/lib/kubelet/config.yaml (a KubeletConfiguration) kept as a whole document: the fields a CA rotation
/// reads or changes have properties; everything else stays as it was. Setting a property to its current value
/// leaves the text unchanged; setting it to null removes the field.
/// </summary>
public sealed class KubeletConfigFile
{
    private const string Kind = "kubelet configuration";
    private readonly YamlDocument _document;

    private KubeletConfigFile(YamlDocument document, string? sourceName)
    {
        _document = document;
        SourceName = sourceName;
        var kind = Scalar(document.Root, "kind");
        if (kind != "KubeletConfiguration")
        {
            var what = sourceName is null ? "The kubelet configuration" : $"The kubelet configuration {sourceName}";
            throw new LayoutFormatException(
                $"{what} is not a KubeletConfiguration (its kind is '{kind ?? "missing"}'); give the kubelet's config.yaml.", sourceName);
        }
    }

    public string? SourceName { get; }

    public bool IsChanged => _document.IsChanged;

    public static KubeletConfigFile Parse(string yaml, string? sourceName = null) =>
        new(YamlDocument.Parse(yaml, sourceName, Kind), sourceName);

    public static KubeletConfigFile Parse(byte[] content, string? sourceName = null) =>
        new(YamlDocument.Parse(content, sourceName, Kind), sourceName);

    /// <summary>The file kubeadm writes (componentconfigs/kubelet.go defaults, as marshalled by kubeadm 1.30+).</summary>
    public static KubeletConfigFile Create(KubeletConfigSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var root = Map(
            ("apiVersion", String("kubelet.config.k8s.io/v1beta1")),
            ("authentication", Map(
                ("anonymous", Map(("enabled", Plain("false")))),
                ("webhook", Map(("cacheTTL", Plain("0s")), ("enabled", Plain("true")))),
                ("x509", Map(("clientCAFile", String(spec.CertificatesDir.TrimEnd('/') + "/ca.crt")))))),
            ("authorization", Map(
                ("mode", String("Webhook")),
                ("webhook", Map(("cacheAuthorizedTTL", Plain("0s")), ("cacheUnauthorizedTTL", Plain("0s")))))));
        if (spec.Address is not null)
        {
            root.Children.Insert(0, new YamlScalarNode("address"), String(spec.Address));
        }

        root.Add("cgroupDriver", String(spec.CgroupDriver));
        root.Add("clusterDNS", Strings([ServiceNetwork.ClusterDnsAddress(spec.ServiceCidr)]));
        root.Add("clusterDomain", String(spec.ClusterDomain));
        root.Add("containerRuntimeEndpoint", String(""));
        root.Add("cpuManagerReconcilePeriod", Plain("0s"));
        root.Add("evictionPressureTransitionPeriod", Plain("0s"));
        root.Add("fileCheckFrequency", Plain(spec.FileCheckFrequency is { } frequency ? GoDuration(frequency) : "0s"));
        root.Add("healthzBindAddress", String(spec.HealthzBindAddress));
        root.Add("healthzPort", Plain(spec.HealthzPort.ToString(CultureInfo.InvariantCulture)));
        root.Add("httpCheckFrequency", Plain("0s"));
        root.Add("imageMaximumGCAge", Plain("0s"));
        root.Add("imageMinimumGCAge", Plain("0s"));
        root.Add("kind", String("KubeletConfiguration"));
        root.Add("logging", Map(
            ("flushFrequency", Plain("0")),
            ("options", Map(
                ("json", Map(("infoBufferSize", String("0")))),
                ("text", Map(("infoBufferSize", String("0")))))),
            ("verbosity", Plain("0"))));
        root.Add("memorySwap", EmptyMap());
        root.Add("nodeStatusReportFrequency", Plain("0s"));
        root.Add("nodeStatusUpdateFrequency", Plain("0s"));
        if (spec.Port is { } port)
        {
            root.Add("port", Plain(port.ToString(CultureInfo.InvariantCulture)));
        }

        root.Add("resolvConf", String("/run/systemd/resolve/resolv.conf"));
        root.Add("rotateCertificates", Plain("true"));
        root.Add("runtimeRequestTimeout", Plain("0s"));
        root.Add("shutdownGracePeriod", Plain("0s"));
        root.Add("shutdownGracePeriodCriticalPods", Plain("0s"));
        root.Add("staticPodPath", String(spec.StaticPodPath));
        root.Add("streamingConnectionIdleTimeout", Plain("0s"));
        root.Add("syncFrequency", Plain("0s"));
        root.Add("volumeStatsAggPeriod", Plain("0s"));
        return Parse(YamlDocument.Write(root), "config.yaml");
    }

    /// <summary>authentication.x509.clientCAFile: the CA bundle the kubelet API trusts for client certificates.</summary>
    public string? ClientCAFile
    {
        get => Mapping(_document.Root, "authentication") is { } authn && Mapping(authn, "x509") is { } x509 ? Scalar(x509, "clientCAFile") : null;
        set
        {
            if (value is null)
            {
                if (Mapping(_document.Root, "authentication") is { } authn && Mapping(authn, "x509") is { } x509)
                {
                    Changed(Remove(x509, "clientCAFile"));
                }

                return;
            }

            if (ClientCAFile == value)
            {
                return;
            }

            var x509Node = EnsureMapping(EnsureMapping(_document.Root, "authentication"), "x509");
            Changed(SetScalar(x509Node, "clientCAFile", value));
        }
    }

    public string? StaticPodPath
    {
        get => Scalar(_document.Root, "staticPodPath");
        set => SetTop("staticPodPath", value, isString: true);
    }

    public bool? RotateCertificates
    {
        get => Scalar(_document.Root, "rotateCertificates") is { } text ? ParseBool(text, "rotateCertificates") : null;
        set => SetTop("rotateCertificates", value is null ? null : value.Value ? "true" : "false", isString: false);
    }

    public string? TlsCertFile
    {
        get => Scalar(_document.Root, "tlsCertFile");
        set => SetTop("tlsCertFile", value, isString: true);
    }

    public string? TlsPrivateKeyFile
    {
        get => Scalar(_document.Root, "tlsPrivateKeyFile");
        set => SetTop("tlsPrivateKeyFile", value, isString: true);
    }

    /// <summary>The kubelet API's listening address; null when not written (the kubelet listens on 0.0.0.0).</summary>
    public string? Address
    {
        get => Scalar(_document.Root, "address");
        set => SetTop("address", value, isString: true);
    }

    /// <summary>The kubelet API port; null when not written (10250).</summary>
    public int? Port
    {
        get => ReadInt("port");
        set => SetTop("port", value?.ToString(CultureInfo.InvariantCulture), isString: false);
    }

    public int? HealthzPort
    {
        get => ReadInt("healthzPort");
        set => SetTop("healthzPort", value?.ToString(CultureInfo.InvariantCulture), isString: false);
    }

    /// <summary>The raw text of a top-level field, for fields without a property (e.g. fileCheckFrequency).</summary>
    public string? GetField(string name) => Scalar(_document.Root, name);

    public string ToYaml() => _document.ToYaml();

    public byte[] ToBytes() => YamlDocument.Encode(ToYaml());

    public override string ToString() => SourceName ?? "kubelet configuration";

    /// <summary>Go's duration spelling for whole seconds and minutes ("20s", "1m30s").</summary>
    private static string GoDuration(TimeSpan value)
    {
        var seconds = (long)value.TotalSeconds;
        if (seconds == 0)
        {
            return "0s";
        }

        var hours = seconds / 3600;
        var minutes = seconds % 3600 / 60;
        var rest = seconds % 60;
        return (hours > 0 ? $"{hours}h" : "") + (hours > 0 || minutes > 0 ? $"{minutes}m" : "") + $"{rest}s";
    }

    private void SetTop(string key, string? value, bool isString)
    {
        Changed(value is null ? Remove(_document.Root, key) : SetScalar(_document.Root, key, value, isString));
    }

    private void Changed(bool changed)
    {
        if (changed)
        {
            _document.MarkChanged();
        }
    }

    private int? ReadInt(string key)
    {
        if (Scalar(_document.Root, key) is not { } text)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid($"'{key}' is '{text}', not a number");
    }

    private bool ParseBool(string text, string key) => text switch
    {
        "true" or "True" or "TRUE" => true,
        "false" or "False" or "FALSE" => false,
        _ => throw Invalid($"'{key}' is '{text}', not true or false"),
    };

    private LayoutFormatException Invalid(string problem)
    {
        var what = SourceName is null ? "The kubelet configuration" : $"The kubelet configuration {SourceName}";
        return new LayoutFormatException($"{what} is not valid: {problem}. Fix the file.", SourceName);
    }
}
