using System.Net;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The stand-in's configuration, read from kube-apiserver's own flags as kubeadm writes them in
/// kube-apiserver.yaml. File paths are node-absolute in the manifest and are mapped into the lab node's root
/// directory at parse time. Flags the stand-in does not implement are kept in <see cref="IgnoredFlags"/>.
/// </summary>
public sealed record ApiServerOptions
{
    public IPAddress? AdvertiseAddress { get; init; }
    public IPAddress BindAddress { get; init; } = IPAddress.Any;
    /// <summary>0 lets the system choose a free port (tests).</summary>
    public int SecurePort { get; init; } = 6443;
    public string? TlsCertFile { get; init; }
    public string? TlsPrivateKeyFile { get; init; }
    public string? ClientCaFile { get; init; }
    public string? RequestHeaderClientCaFile { get; init; }
    public IReadOnlyList<string> RequestHeaderAllowedNames { get; init; } = [];
    public IReadOnlyList<string> RequestHeaderUsernameHeaders { get; init; } = [];
    public IReadOnlyList<string> RequestHeaderGroupHeaders { get; init; } = [];
    public IReadOnlyList<string> RequestHeaderExtraHeadersPrefix { get; init; } = [];
    public IReadOnlyList<string> RequestHeaderUidHeaders { get; init; } = [];
    public IReadOnlyList<string> ServiceAccountKeyFiles { get; init; } = [];
    public IReadOnlyList<string> ServiceAccountIssuers { get; init; } = [];
    /// <summary>The private key bound tokens (TokenRequest) are signed with; without it the token subresource is not served.</summary>
    public string? ServiceAccountSigningKeyFile { get; init; }
    /// <summary>--service-account-extend-token-expiration (default true): kubelet-requested tokens (3607 s) live a year, with a warnafter.</summary>
    public bool ServiceAccountExtendTokenExpiration { get; init; } = true;
    public IReadOnlyList<string> ApiAudiences { get; init; } = [];
    public bool AnonymousAuth { get; init; } = true;
    public IReadOnlyList<string> EtcdServers { get; init; } = [];
    public string? EtcdCaFile { get; init; }
    public string? EtcdCertFile { get; init; }
    public string? EtcdKeyFile { get; init; }
    /// <summary>The client certificate and key presented to aggregated API servers; re-read when they change.</summary>
    public string? ProxyClientCertFile { get; init; }
    public string? ProxyClientKeyFile { get; init; }
    /// <summary>Lab-only: a JSON file of <see cref="FaultSettings"/>, re-read when it changes.</summary>
    public string? LabFaultFile { get; init; }

    /// <summary>
    /// --shutdown-delay-duration: after SIGTERM the server keeps serving for this long while /readyz fails, so a load
    /// balancer checking /readyz takes it out of rotation before it stops listening (0, the default, stops at once).
    /// </summary>
    public TimeSpan ShutdownDelayDuration { get; init; }
    /// <summary>What /version reports as gitVersion.</summary>
    public string KubernetesVersion { get; init; } = "v1.32.4";
    public IReadOnlyList<string> IgnoredFlags { get; init; } = [];

    /// <summary>
    /// Parses kube-apiserver's command line (with or without the leading "kube-apiserver").
    /// Accepts "--flag=value" and "--flag value"; repeated list flags accumulate and comma lists are split.
    /// Unknown flags are recorded, never fatal. Throws <see cref="ArgumentException"/> with one sentence when a
    /// flag the stand-in uses has a value it cannot read.
    /// </summary>
    public static ApiServerOptions Parse(IReadOnlyList<string> args, Func<string, string> mapPath)
    {
        var options = new ApiServerOptions();
        var ignored = new List<string>();
        var saKeys = new List<string>();
        var issuers = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
                continue; // the binary name, or a stray positional argument
            var body = arg.TrimStart('-');
            string name;
            string? value;
            var eq = body.IndexOf('=');
            if (eq >= 0)
            {
                name = body[..eq];
                value = body[(eq + 1)..];
            }
            else
            {
                name = body;
                value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            }
            string Required() => value ?? throw new ArgumentException($"The kube-apiserver flag --{name} needs a value.");
            string MappedPath() => mapPath(Required());
            switch (name)
            {
                case "advertise-address": options = options with { AdvertiseAddress = ParseAddress(name, Required()) }; break;
                case "bind-address": options = options with { BindAddress = ParseAddress(name, Required()) }; break;
                case "secure-port":
                    if (!int.TryParse(Required(), out var port) || port is < 0 or > 65535)
                        throw new ArgumentException($"The kube-apiserver flag --secure-port has '{value}', which is not a port number.");
                    options = options with { SecurePort = port };
                    break;
                case "tls-cert-file": options = options with { TlsCertFile = MappedPath() }; break;
                case "tls-private-key-file": options = options with { TlsPrivateKeyFile = MappedPath() }; break;
                case "client-ca-file": options = options with { ClientCaFile = MappedPath() }; break;
                case "requestheader-client-ca-file": options = options with { RequestHeaderClientCaFile = MappedPath() }; break;
                case "requestheader-allowed-names": options = options with { RequestHeaderAllowedNames = SplitList(value) }; break;
                case "requestheader-username-headers": options = options with { RequestHeaderUsernameHeaders = SplitList(value) }; break;
                case "requestheader-group-headers": options = options with { RequestHeaderGroupHeaders = SplitList(value) }; break;
                case "requestheader-extra-headers-prefix": options = options with { RequestHeaderExtraHeadersPrefix = SplitList(value) }; break;
                case "requestheader-uid-headers": options = options with { RequestHeaderUidHeaders = SplitList(value) }; break;
                case "service-account-key-file": saKeys.Add(MappedPath()); break;
                case "service-account-issuer": issuers.Add(Required()); break;
                case "service-account-signing-key-file": options = options with { ServiceAccountSigningKeyFile = MappedPath() }; break;
                case "service-account-extend-token-expiration": options = options with { ServiceAccountExtendTokenExpiration = !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) }; break;
                case "api-audiences": options = options with { ApiAudiences = SplitList(value) }; break;
                case "anonymous-auth": options = options with { AnonymousAuth = !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) }; break;
                case "etcd-servers": options = options with { EtcdServers = SplitList(value) }; break;
                case "etcd-cafile": options = options with { EtcdCaFile = MappedPath() }; break;
                case "etcd-certfile": options = options with { EtcdCertFile = MappedPath() }; break;
                case "etcd-keyfile": options = options with { EtcdKeyFile = MappedPath() }; break;
                case "proxy-client-cert-file": options = options with { ProxyClientCertFile = MappedPath() }; break;
                case "proxy-client-key-file": options = options with { ProxyClientKeyFile = MappedPath() }; break;
                case "lab-fault-file": options = options with { LabFaultFile = Required() }; break;
                case "shutdown-delay-duration": options = options with { ShutdownDelayDuration = ControllerManager.GoDuration.Parse(Required(), "--" + name) }; break;
                case "lab-kubernetes-version": options = options with { KubernetesVersion = Required() }; break;
                default: ignored.Add(arg); break;
            }
        }
        return options with { ServiceAccountKeyFiles = saKeys, ServiceAccountIssuers = issuers, IgnoredFlags = ignored };
    }

    /// <summary>
    /// The address the lab really listens on: the bind address, or the advertise address when binding to all
    /// interfaces (kubeadm's default), or 127.0.0.1. The lab never listens beyond loopback.
    /// </summary>
    public IPAddress ListenAddress
    {
        get
        {
            var address = BindAddress.Equals(IPAddress.Any) || BindAddress.Equals(IPAddress.IPv6Any)
                ? AdvertiseAddress ?? IPAddress.Loopback
                : BindAddress;
            if (!IPAddress.IsLoopback(address))
                throw new ArgumentException($"The lab API server will not listen on {address}: give a loopback --advertise-address or --bind-address (127.0.0.0/8 or ::1).");
            return address;
        }
    }

    private static IPAddress ParseAddress(string flag, string value) =>
        IPAddress.TryParse(value, out var address)
            ? address
            : throw new ArgumentException($"The kube-apiserver flag --{flag} has '{value}', which is not an IP address.");

    private static string[] SplitList(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
