using YamlDotNet.RepresentationModel;
using static KubeCaRotate.Layout.YamlNodes;

namespace KubeCaRotate.Layout;

/// <summary>
/// A kubeconfig file, kept as a whole YAML document: reading and setting the fields a CA rotation touches
/// changes those fields only; other clusters, users, contexts and unknown fields stay as they were.
/// Setting a value to what it already is leaves the text byte for byte the same.
/// </summary>
public sealed class Kubeconfig
{
    private const string Kind = "kubeconfig";
    private readonly YamlDocument _document;

    private Kubeconfig(YamlDocument document, string? sourceName)
    {
        _document = document;
        SourceName = sourceName;
        Validate();
    }

    /// <summary>The file name given when parsing, for messages.</summary>
    public string? SourceName { get; }

    public bool IsChanged => _document.IsChanged;

    public static Kubeconfig Parse(string yaml, string? sourceName = null) =>
        new(YamlDocument.Parse(yaml, sourceName, Kind), sourceName);

    public static Kubeconfig Parse(byte[] content, string? sourceName = null) =>
        new(YamlDocument.Parse(content, sourceName, Kind), sourceName);

    /// <summary>
    /// A kubeconfig laid out exactly as kubeadm writes one: a cluster named <paramref name="clusterName"/>, a user
    /// named <paramref name="userName"/> (kubeadm uses the client certificate's CN), a context
    /// "&lt;user&gt;@&lt;cluster&gt;" that is current, and the CA, certificate and key embedded as base64.
    /// </summary>
    /// <param name="contextName">The context's name; kubeadm's "&lt;user&gt;@&lt;cluster&gt;" when null (the kubelet names its own "default-context").</param>
    public static Kubeconfig Create(string clusterName, string server, byte[] caPem, string userName, byte[] clientCertPem, byte[] clientKeyPem, string? contextName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterName);
        ArgumentException.ThrowIfNullOrEmpty(server);
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(caPem);
        ArgumentNullException.ThrowIfNull(clientCertPem);
        ArgumentNullException.ThrowIfNull(clientKeyPem);

        contextName ??= $"{userName}@{clusterName}";
        var root = Map(
            ("apiVersion", String("v1")),
            ("clusters", Seq([
                Map(
                    ("cluster", Map(
                        ("certificate-authority-data", String(Convert.ToBase64String(caPem))),
                        ("server", String(server)))),
                    ("name", String(clusterName))),
            ])),
            ("contexts", Seq([
                Map(
                    ("context", Map(("cluster", String(clusterName)), ("user", String(userName)))),
                    ("name", String(contextName))),
            ])),
            ("current-context", String(contextName)),
            ("kind", String("Config")),
            ("preferences", EmptyMap()),
            ("users", Seq([
                Map(
                    ("name", String(userName)),
                    ("user", Map(
                        ("client-certificate-data", String(Convert.ToBase64String(clientCertPem))),
                        ("client-key-data", String(Convert.ToBase64String(clientKeyPem)))))),
            ])));
        return Parse(YamlDocument.Write(root));
    }

    public string? CurrentContext
    {
        get => Scalar(_document.Root, "current-context");
        set
        {
            if (value is null ? Remove(_document.Root, "current-context") : SetScalar(_document.Root, "current-context", value))
            {
                _document.MarkChanged();
            }
        }
    }

    public IReadOnlyList<KubeconfigCluster> Clusters =>
        Entries("clusters", "cluster").Select(e => ReadCluster(e.Name, e.Body)).ToList();

    public IReadOnlyList<KubeconfigUser> Users =>
        Entries("users", "user").Select(e => ReadUser(e.Name, e.Body)).ToList();

    public IReadOnlyList<KubeconfigContext> Contexts =>
        Entries("contexts", "context").Select(e => new KubeconfigContext(
            e.Name, Scalar(e.Body, "cluster"), Scalar(e.Body, "user"), Scalar(e.Body, "namespace"))).ToList();

    public KubeconfigCluster? GetCluster(string name) => Clusters.FirstOrDefault(c => c.Name == name);

    public KubeconfigUser? GetUser(string name) => Users.FirstOrDefault(u => u.Name == name);

    public KubeconfigContext? GetContext(string name) => Contexts.FirstOrDefault(c => c.Name == name);

    /// <summary>The context named by current-context, or null when there is none.</summary>
    public KubeconfigContext? CurrentContextEntry => CurrentContext is { } name ? GetContext(name) : null;

    /// <summary>The cluster of the current context, or null.</summary>
    public KubeconfigCluster? CurrentCluster => CurrentContextEntry?.Cluster is { } name ? GetCluster(name) : null;

    /// <summary>The user of the current context, or null.</summary>
    public KubeconfigUser? CurrentUser => CurrentContextEntry?.User is { } name ? GetUser(name) : null;

    /// <summary>Embeds a CA (one PEM certificate or a bundle) and drops any certificate-authority path, as kubectl rejects both.</summary>
    public bool SetCertificateAuthorityData(string clusterName, byte[] caPem)
    {
        ArgumentNullException.ThrowIfNull(caPem);
        var body = ClusterBody(clusterName);
        return Changed(SetScalar(body, "certificate-authority-data", Convert.ToBase64String(caPem))
                       | Remove(body, "certificate-authority"));
    }

    /// <summary>Points the cluster at a CA file and drops embedded CA data.</summary>
    public bool SetCertificateAuthorityPath(string clusterName, string caPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(caPath);
        var body = ClusterBody(clusterName);
        return Changed(SetScalar(body, "certificate-authority", caPath) | Remove(body, "certificate-authority-data"));
    }

    public bool SetServer(string clusterName, string server)
    {
        ArgumentException.ThrowIfNullOrEmpty(server);
        return Changed(SetScalar(ClusterBody(clusterName), "server", server));
    }

    /// <summary>Embeds a client certificate and key and drops client-certificate/client-key paths.</summary>
    public bool SetClientCertificateData(string userName, byte[] certificatePem, byte[] keyPem)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        ArgumentNullException.ThrowIfNull(keyPem);
        var body = UserBody(userName);
        return Changed(SetScalar(body, "client-certificate-data", Convert.ToBase64String(certificatePem))
                       | SetScalar(body, "client-key-data", Convert.ToBase64String(keyPem))
                       | Remove(body, "client-certificate")
                       | Remove(body, "client-key"));
    }

    /// <summary>
    /// Points the user at certificate and key files (as kubelet.conf points at kubelet-client-current.pem) and
    /// drops embedded data.
    /// </summary>
    public bool SetClientCertificatePaths(string userName, string certificatePath, string keyPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        ArgumentException.ThrowIfNullOrEmpty(keyPath);
        var body = UserBody(userName);
        return Changed(SetScalar(body, "client-certificate", certificatePath)
                       | SetScalar(body, "client-key", keyPath)
                       | Remove(body, "client-certificate-data")
                       | Remove(body, "client-key-data"));
    }

    /// <summary>The document as YAML: the original text when nothing changed.</summary>
    public string ToYaml() => _document.ToYaml();

    /// <summary>The document as UTF-8 bytes, ready for a 0600 file.</summary>
    public byte[] ToBytes() => YamlDocument.Encode(ToYaml());

    public override string ToString() => SourceName is null ? "kubeconfig" : $"kubeconfig {SourceName}";

    private bool Changed(bool changed)
    {
        if (changed)
        {
            _document.MarkChanged();
        }

        return changed;
    }

    private void Validate()
    {
        var root = _document.Root;
        var kind = Scalar(root, "kind");
        var known = new[] { "clusters", "users", "contexts", "current-context" }.Any(key => Get(root, key) is not null);
        if (kind is not null && kind != "Config" || kind is null && !known)
        {
            throw new LayoutFormatException(
                $"{Capitalized} is not a kubeconfig: " +
                (kind is not null ? $"its kind is '{kind}', not 'Config'." : "it has no clusters, users or contexts.") +
                " Give a kubeconfig file (apiVersion: v1, kind: Config).", SourceName);
        }

        // Reading every entry once checks the lists and the base64 data up front.
        _ = Clusters;
        _ = Users;
        _ = Contexts;
    }

    private string Capitalized => char.ToUpperInvariant(_document.Description[0]) + _document.Description[1..];

    private IEnumerable<(string Name, YamlMappingNode Body)> Entries(string listKey, string bodyKey)
    {
        var node = Get(_document.Root, listKey);
        if (node is null || node is YamlScalarNode scalar && IsNull(scalar))
        {
            yield break;
        }

        if (node is not YamlSequenceNode list)
        {
            throw Invalid($"its '{listKey}' field is not a list");
        }

        foreach (var item in list.Children)
        {
            if (item is not YamlMappingNode entry || Scalar(entry, "name") is not { } name)
            {
                throw Invalid($"an entry of '{listKey}' has no name");
            }

            var body = Get(entry, bodyKey);
            if (body is YamlMappingNode mapping)
            {
                yield return (name, mapping);
            }
            else if (body is null || body is YamlScalarNode bodyScalar && IsNull(bodyScalar))
            {
                yield return (name, new YamlMappingNode());
            }
            else
            {
                throw Invalid($"the '{bodyKey}' of {listKey} entry '{name}' is not a mapping");
            }
        }
    }

    private KubeconfigCluster ReadCluster(string name, YamlMappingNode body) => new(
        name,
        Scalar(body, "server"),
        Base64(body, "certificate-authority-data", $"cluster '{name}'"),
        Scalar(body, "certificate-authority"),
        Scalar(body, "insecure-skip-tls-verify") is "true" or "True" or "TRUE");

    private KubeconfigUser ReadUser(string name, YamlMappingNode body) => new(
        name,
        Base64(body, "client-certificate-data", $"user '{name}'"),
        Base64(body, "client-key-data", $"user '{name}'"),
        Scalar(body, "client-certificate"),
        Scalar(body, "client-key"),
        Scalar(body, "token"));

    private byte[]? Base64(YamlMappingNode body, string key, string owner)
    {
        if (Scalar(body, key) is not { } text)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException ex)
        {
            throw Invalid($"the {key} of {owner} is not valid base64", ex);
        }
    }

    private YamlMappingNode ClusterBody(string clusterName) => Body("clusters", "cluster", clusterName);

    private YamlMappingNode UserBody(string userName) => Body("users", "user", userName);

    private YamlMappingNode Body(string listKey, string bodyKey, string name)
    {
        // kubeadm's cluster-info kubeconfig names its cluster "": an empty name is a name.
        ArgumentNullException.ThrowIfNull(name);
        if (Sequence(_document.Root, listKey) is { } list)
        {
            foreach (var entry in list.Children.OfType<YamlMappingNode>())
            {
                if (Scalar(entry, "name") == name)
                {
                    return EnsureMapping(entry, bodyKey);
                }
            }
        }

        var known = string.Join(", ", Entries(listKey, bodyKey).Select(e => e.Name));
        throw new KeyNotFoundException(
            $"{Capitalized} has no {bodyKey} named '{name}'" + (known.Length > 0 ? $" (it has: {known})." : "."));
    }

    private LayoutFormatException Invalid(string problem, Exception? inner = null) =>
        new($"{Capitalized} is not a valid kubeconfig: {problem}. Fix the file or restore it from a backup.", SourceName, inner);
}
