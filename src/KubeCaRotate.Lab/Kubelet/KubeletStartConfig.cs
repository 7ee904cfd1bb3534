using System.Globalization;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Pki;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// What the kubelet reads once, at its start: /var/lib/kubelet/config.yaml (client CA file, listening address and
/// port, serving pair, rotateCertificates, staticPodPath, fileCheckFrequency) and /etc/kubernetes/kubelet.conf
/// (the API server, the CA it trusts, its client certificate). Changing these files changes nothing until the
/// kubelet is restarted, as on a real node. Paths are node paths.
/// </summary>
public sealed record KubeletStartConfig
{
    public static readonly string ConfigPath = KubeadmPaths.Default.KubeletConfigFile;

    public required string ClientCaFile { get; init; }

    public required string Address { get; init; }

    public required int Port { get; init; }

    public required string ServingCertFile { get; init; }

    public required string ServingKeyFile { get; init; }

    public required bool RotateCertificates { get; init; }

    public required string StaticPodPath { get; init; }

    public required TimeSpan FileCheckFrequency { get; init; }

    /// <summary>The API server URL from kubelet.conf (kubeadm: the HA endpoint).</summary>
    public required string Server { get; init; }

    /// <summary>The CA certificates kubelet.conf trusts for the API server; fixed until the kubelet restarts.</summary>
    public required IReadOnlyList<X509Certificate2> ServerRoots { get; init; }

    /// <summary>The client certificate file (kubelet-client-current.pem), or null when kubelet.conf embeds the certificate.</summary>
    public required string? ClientCertificateFile { get; init; }

    public required string? ClientKeyFile { get; init; }

    /// <summary>The embedded client certificate and key PEM when kubelet.conf carries data instead of paths.</summary>
    public string? EmbeddedClientPem { get; init; }

    /// <summary>Every node file the kubelet read at start, for <see cref="LoadedFiles"/>.</summary>
    public IEnumerable<string> LoadedPaths =>
        new[] { ConfigPath, KubeadmPaths.Default.KubeletConf, ClientCaFile, ClientCertificateFile, ClientKeyFile }.OfType<string>().Distinct();

    public static KubeletStartConfig Load(LabTopology lab, LabNode node)
    {
        var root = lab.NodeRoot(node);
        var configHost = Path.Join(root, ConfigPath);
        if (!File.Exists(configHost))
            throw new LabException($"The kubelet of {node.Name} cannot start: {ConfigPath} is missing under {root}; restore it (lab up writes it).");
        var config = KubeletConfigFile.Parse(File.ReadAllBytes(configHost), ConfigPath);
        var kubeconfigPath = KubeadmPaths.Default.KubeletConf;
        var kubeconfigHost = Path.Join(root, kubeconfigPath);
        if (!File.Exists(kubeconfigHost))
            throw new LabException($"The kubelet of {node.Name} cannot start: {kubeconfigPath} is missing under {root}; restore it.");
        var kubeconfig = Kubeconfig.Parse(File.ReadAllBytes(kubeconfigHost), kubeconfigPath);
        var cluster = kubeconfig.CurrentCluster ?? throw new LabException($"{kubeconfigPath} of {node.Name} has no current context with a cluster; fix the file.");
        var user = kubeconfig.CurrentUser ?? throw new LabException($"{kubeconfigPath} of {node.Name} has no current context with a user; fix the file.");
        var caPem = cluster.CertificateAuthorityData is { } data ? Encoding.ASCII.GetString(data)
            : cluster.CertificateAuthority is { } caPath && File.Exists(Path.Join(root, caPath)) ? File.ReadAllText(Path.Join(root, caPath))
            : throw new LabException($"{kubeconfigPath} of {node.Name} names no CA for cluster {cluster.Name}; the lab kubelet never skips TLS verification.");
        string? embedded = null;
        if (user.ClientCertificate is null && user.ClientCertificateData is { } certData && user.ClientKeyData is { } keyData)
            embedded = Encoding.ASCII.GetString(certData) + "\n" + Encoding.ASCII.GetString(keyData);
        else if (user.ClientCertificate is null)
            throw new LabException($"{kubeconfigPath} of {node.Name} has no client certificate for user {user.Name}; the lab kubelet authenticates with x509 only.");
        return new KubeletStartConfig
        {
            ClientCaFile = config.ClientCAFile ?? throw new LabException($"{ConfigPath} of {node.Name} sets no authentication.x509.clientCAFile; the kubelet API would trust nobody."),
            Address = config.Address ?? node.Address,
            Port = config.Port ?? 10250,
            ServingCertFile = config.TlsCertFile ?? KubeadmPaths.Default.KubeletServingCert,
            ServingKeyFile = config.TlsPrivateKeyFile ?? KubeadmPaths.Default.KubeletServingKey,
            RotateCertificates = config.RotateCertificates ?? false,
            StaticPodPath = config.StaticPodPath ?? KubeadmPaths.Default.ManifestsDir,
            FileCheckFrequency = ParseDuration(config.GetField("fileCheckFrequency"), ConfigPath) is { } f && f > TimeSpan.Zero ? f : TimeSpan.FromSeconds(20),
            Server = cluster.Server ?? throw new LabException($"{kubeconfigPath} of {node.Name} names no server for cluster {cluster.Name}; fix the file."),
            ServerRoots = PemBundle.ParseNonEmpty(caPem, kubeconfigPath + " (certificate-authority-data)").Certificates,
            ClientCertificateFile = user.ClientCertificate,
            ClientKeyFile = user.ClientKey,
            EmbeddedClientPem = embedded,
        };
    }

    /// <summary>A Go duration such as "1s", "500ms", "1m30s", or null when absent.</summary>
    public static TimeSpan? ParseDuration(string? text, string source)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var total = TimeSpan.Zero;
        var rest = text.Trim();
        while (rest.Length > 0)
        {
            var i = 0;
            while (i < rest.Length && (char.IsDigit(rest[i]) || rest[i] == '.')) i++;
            var j = i;
            while (j < rest.Length && char.IsLetter(rest[j])) j++;
            if (i == 0 || j == i || !double.TryParse(rest[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new LayoutFormatException($"The duration '{text}' in {source} is not a Go duration such as 20s or 1m30s; fix the file.", source);
            total += rest[i..j] switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                _ => throw new LayoutFormatException($"The duration '{text}' in {source} has an unknown unit '{rest[i..j]}'; use h, m, s or ms.", source),
            };
            rest = rest[j..];
        }
        return total;
    }
}
