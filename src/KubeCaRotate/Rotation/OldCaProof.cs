using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// What `complete` proves before it removes an old CA: every leaf of that CA on every control-plane node, every
/// kubeconfig client certificate (admin, super-admin, controller-manager, scheduler, every kubelet.conf and the kubelet
/// client certificate file it names) is issued by the new CA, and every live API server and etcd member serves a
/// certificate issued by the new CA. Anything else is listed in one refusal, and nothing is changed.
/// </summary>
public static class OldCaProof
{
    public static async Task<IReadOnlyList<string>> ProveAsync(IReadOnlyList<StagedCa> cas, RotationNodes nodes, RotationPaths paths, DateTimeOffset at, bool liveEndpoints, CancellationToken ct)
    {
        var problems = new List<string>();
        var verified = new List<string>();
        var kubeadm = paths.Kubeadm;
        foreach (var ca in cas)
        {
            var checkedFiles = 0;
            foreach (var cp in nodes.ControlPlanes)
            {
                foreach (var leaf in KubeadmCatalog.Leaves.Where(l => l.Ca == ca.Ca))
                {
                    var path = kubeadm.Pki(leaf.CertFile);
                    var bytes = await cp.Access.ReadFileAsync(path, ct).ConfigureAwait(false);
                    if (bytes is null) continue;
                    checkedFiles++;
                    var cert = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(bytes), $"{cp.Name}:{path}").First!;
                    if (!PhaseSteps.IssuedBy(cert, ca.New, at)) problems.Add($"{cp.Name}:{path} is not issued by the new {RotationPaths.Name(ca.Ca)}");
                }
            }
            verified.Add($"{checkedFiles} leaf certificates of the {RotationPaths.Name(ca.Ca)} on {nodes.ControlPlanes.Count} control-plane nodes are issued by the new CA");
        }

        if (cas.FirstOrDefault(c => c.Ca == CaKind.Cluster) is { } cluster)
        {
            var clients = 0;
            foreach (var node in nodes.All)
            {
                var confs = node.IsControlPlane ? new[] { kubeadm.AdminConf, kubeadm.SuperAdminConf, kubeadm.ControllerManagerConf, kubeadm.SchedulerConf, kubeadm.KubeletConf } : [kubeadm.KubeletConf];
                foreach (var conf in confs)
                {
                    var bytes = await node.Access.ReadFileAsync(conf, ct).ConfigureAwait(false);
                    if (bytes is null) continue;
                    foreach (var user in Kubeconfig.Parse(bytes, $"{node.Name}:{conf}").Users)
                    {
                        byte[]? pem = user.ClientCertificateData;
                        var where = $"{node.Name}:{conf} (user {user.Name})";
                        if (pem is null && user.ClientCertificate is { } certPath)
                        {
                            pem = await node.Access.ReadFileAsync(certPath, ct).ConfigureAwait(false);
                            where = $"{node.Name}:{certPath}";
                        }
                        if (pem is null) continue;
                        clients++;
                        var cert = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(pem), where).First!;
                        if (!PhaseSteps.IssuedBy(cert, cluster.New, at)) problems.Add($"the client certificate in {where} is not issued by the new cluster CA");
                    }
                }
            }
            verified.Add($"{clients} kubeconfig and kubelet client certificates on {nodes.All.Count} nodes are issued by the new cluster CA");
        }

        foreach (var (ca, manifest, urls) in new (CaKind, string, Func<StaticPodManifest, IEnumerable<string>>)[]
                 {
                     (CaKind.Cluster, kubeadm.ApiServerManifest, m => m.GetFlag("advertise-address") is { } a ? [$"https://{a}:{m.GetFlag("secure-port") ?? "6443"}"] : []),
                     (CaKind.Etcd, kubeadm.EtcdManifest, m => (m.GetFlag("advertise-client-urls") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)),
                 })
        {
            if (!liveEndpoints || cas.FirstOrDefault(c => c.Ca == ca) is not { } rotated) continue;
            var served = 0;
            foreach (var cp in nodes.ControlPlanes)
            {
                var bytes = await cp.Access.ReadFileAsync(manifest, ct).ConfigureAwait(false);
                if (bytes is null) continue;
                foreach (var url in urls(StaticPodManifest.Parse(bytes, $"{cp.Name}:{manifest}")))
                {
                    var uri = new Uri(url.Trim());
                    var cert = await ServedCertificateWithinAsync(uri.Host, uri.Port, ct).ConfigureAwait(false);
                    if (cert is null) problems.Add($"{uri.Host}:{uri.Port} ({cp.Name}) could not be reached within {Reachable.TotalSeconds:0} s to see the certificate it serves");
                    else if (!PhaseSteps.IssuedBy(cert, rotated.New, at)) problems.Add($"{uri.Host}:{uri.Port} ({cp.Name}) serves a certificate not issued by the new {RotationPaths.Name(ca)}");
                    else served++;
                }
            }
            verified.Add($"{served} live {(ca == CaKind.Etcd ? "etcd" : "API server")} endpoints serve certificates of the new {RotationPaths.Name(ca)}");
        }

        if (problems.Count > 0)
            throw new RotationException($"complete refused, nothing was changed: {problems.Count} thing{(problems.Count == 1 ? "" : "s")} still depend on the old CA: {string.Join("; ", problems)}. Run `kube-ca-rotate start` to finish the switch, then complete again.");
        return verified;
    }

    /// <summary>How long an endpoint may stay unreachable: a component an interrupted run was restarting comes back in seconds.</summary>
    private static readonly TimeSpan Reachable = TimeSpan.FromSeconds(60);

    /// <summary>The certificate an endpoint serves, asked again every second while it cannot be reached, for up to <see cref="Reachable"/>.</summary>
    private static async Task<X509Certificate2?> ServedCertificateWithinAsync(string host, int port, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Reachable;
        while (true)
        {
            if (await ServedCertificateAsync(host, port, ct).ConfigureAwait(false) is { } cert) return cert;
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
    }

    /// <summary>The certificate a TLS server presents (the handshake may then fail for want of a client certificate: that does not matter here).</summary>
    private static async Task<X509Certificate2?> ServedCertificateAsync(string host, int port, CancellationToken ct)
    {
        X509Certificate2? seen = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, cert, _, _) =>
            {
                if (cert is not null) seen = new X509Certificate2(cert);
                return true;
            });
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException && !ct.IsCancellationRequested)
        {
        }
        return seen;
    }
}
