using System.ComponentModel;
using System.Net;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KubeCaRotate.Cli.Pki;

public sealed class PkiInitCommand(IAnsiConsole console) : AsyncCommand<PkiInitCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dir <DIR>")]
        [Description("Directory to write into; it stands for /etc/kubernetes (pki/ and the *.conf files go inside).")]
        public string? Dir { get; init; }

        [CommandOption("--node-name <NAME>")]
        [Description("The node's name (etcd server/peer CN, kubelet identity, API server SAN).")]
        public string? NodeName { get; init; }

        [CommandOption("--advertise-address <IP>")]
        [Description("The node's API server advertise address.")]
        public string? AdvertiseAddress { get; init; }

        [CommandOption("--bind-port <PORT>")]
        [Description("The API server port of this node (default 6443).")]
        [DefaultValue(6443)]
        public int BindPort { get; init; } = 6443;

        [CommandOption("--control-plane-endpoint <HOST[:PORT]>")]
        [Description("The shared endpoint of an HA control plane (admin.conf and kubelet.conf use it).")]
        public string? ControlPlaneEndpoint { get; init; }

        [CommandOption("--cert-sans <LIST>")]
        [Description("Extra API server SANs, comma separated (IPs or DNS names).")]
        public string? CertSans { get; init; }

        [CommandOption("--service-cidr <CIDR>")]
        [Description("Service subnet (default 10.96.0.0/12); its first IP goes into the API server certificate.")]
        public string? ServiceCidr { get; init; }

        [CommandOption("--dns-domain <DOMAIN>")]
        [Description("Cluster DNS domain (default cluster.local).")]
        public string? DnsDomain { get; init; }

        [CommandOption("--cluster-name <NAME>")]
        [Description("Cluster name written into the kubeconfigs (default kubernetes).")]
        public string? ClusterName { get; init; }

        [CommandOption("--algorithm <ALG>")]
        [Description("Key algorithm: RSA-2048 (default), RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384.")]
        public string? Algorithm { get; init; }

        [CommandOption("--kubeadm-profile <PROFILE>")]
        [Description("Organisations as kubeadm writes them: 'current' (1.29 and later, default) or 'before-1.29'.")]
        public string? Profile { get; init; }

        [CommandOption("--ca-dir <PKIDIR>")]
        [Description("Reuse the CAs and sa pair of this existing certificates directory (a joining control-plane node).")]
        public string? CaDir { get; init; }

        [CommandOption("--force")]
        [Description("Overwrite existing files.")]
        public bool Force { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Dir)) return ValidationResult.Error("--dir is required.");
            if (string.IsNullOrWhiteSpace(NodeName)) return ValidationResult.Error("--node-name is required.");
            if (!SubjectAltNames.IsDnsName(NodeName)) return ValidationResult.Error($"--node-name '{NodeName}' is not a valid node name (lower-case RFC 1123).");
            if (string.IsNullOrWhiteSpace(AdvertiseAddress)) return ValidationResult.Error("--advertise-address is required.");
            if (!IPAddress.TryParse(AdvertiseAddress, out _)) return ValidationResult.Error($"--advertise-address '{AdvertiseAddress}' is not an IP address.");
            if (BindPort is < 1 or > 65535) return ValidationResult.Error($"--bind-port {BindPort} is not a port number.");
            if (!KeyAlgorithms.TryParse(Algorithm, out _))
                return ValidationResult.Error($"--algorithm '{Algorithm}' is not one of {string.Join(", ", KeyAlgorithms.KubeadmNames)}.");
            if (Profile is not (null or "current" or "before-1.29"))
                return ValidationResult.Error($"--kubeadm-profile '{Profile}' must be 'current' or 'before-1.29'.");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var dir = Path.GetFullPath(settings.Dir!);
        var cluster = new ClusterPkiSpec
        {
            ControlPlaneEndpoint = settings.ControlPlaneEndpoint,
            ApiServerCertSans = (settings.CertSans ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            ServiceSubnet = settings.ServiceCidr ?? "10.96.0.0/12",
            DnsDomain = settings.DnsDomain ?? "cluster.local",
            ClusterName = settings.ClusterName ?? "kubernetes",
            Algorithm = KeyAlgorithms.Parse(settings.Algorithm),
            Profile = settings.Profile == "before-1.29" ? KubeadmVersionProfile.Before129 : KubeadmVersionProfile.Current,
        };
        try
        {
            cluster.FirstServiceIp();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var context2 = new PkiContext(cluster, new NodePkiSpec(settings.NodeName!, IPAddress.Parse(settings.AdvertiseAddress!), settings.BindPort));

        SharedPki shared;
        if (settings.CaDir is { } caDir)
        {
            var caRoot = Path.GetFullPath(caDir);
            if (!Directory.Exists(caRoot))
                throw new UsageException($"The --ca-dir directory {caRoot} does not exist; point it at the pki directory of an existing node.");
            shared = await KubernetesDirectoryWriter.ReadSharedAsync(new LocalNode("ca-dir", caRoot), "/", cancellationToken);
        }
        else
        {
            shared = SharedPki.Create(CertificateIssuer.System, cluster.Algorithm, cluster.CaCertificateValidity);
        }

        var pki = NodePki.Issue(context2, shared, CertificateIssuer.System, initNode: settings.CaDir is null);
        Directory.CreateDirectory(dir);
        var node = new LocalNode("local", dir);
        var written = await KubernetesDirectoryWriter.WriteAsync(node, pki, new KubeadmPaths { KubernetesDir = "/", CertificatesDir = "/pki" }, settings.Force, cancellationToken);
        console.MarkupLine($"Wrote {written.Count} files into [bold]{Markup.Escape(dir)}[/] for node [bold]{Markup.Escape(settings.NodeName!)}[/] ({cluster.Algorithm.ToKubeadmName()}{(settings.CaDir is null ? ", new CAs" : ", CAs from " + Markup.Escape(settings.CaDir))}).");
        return ExitCodes.Ok;
    }
}
