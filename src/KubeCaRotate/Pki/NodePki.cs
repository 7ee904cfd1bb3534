namespace KubeCaRotate.Pki;

/// <summary>
/// Everything kubeadm issues for one control-plane node: the shared CAs and service-account key, every leaf of the
/// catalog, and the kubeconfig identities. Pure: producing files is left to the caller.
/// </summary>
public sealed class NodePki
{
    private NodePki(PkiContext context, SharedPki shared, IReadOnlyList<(LeafProfile Profile, IssuedCertificate Issued)> leaves, IReadOnlyList<IssuedKubeconfig> kubeconfigs)
    {
        Context = context;
        Shared = shared;
        Leaves = leaves;
        Kubeconfigs = kubeconfigs;
    }

    public PkiContext Context { get; }

    public SharedPki Shared { get; }

    public IReadOnlyList<(LeafProfile Profile, IssuedCertificate Issued)> Leaves { get; }

    public IReadOnlyList<IssuedKubeconfig> Kubeconfigs { get; }

    /// <summary>
    /// Issues every leaf and kubeconfig identity for <paramref name="context"/> under <paramref name="shared"/>. On the
    /// init node (<paramref name="initNode"/>) super-admin.conf is included where the version profile has it.
    /// </summary>
    public static NodePki Issue(PkiContext context, SharedPki shared, CertificateIssuer issuer, bool initNode)
    {
        var validity = context.Cluster.CertificateValidity;
        var algorithm = context.Cluster.Algorithm;
        var leaves = KubeadmCatalog.Leaves
            .Select(p =>
            {
                var key = PrivateKey.Generate(algorithm);
                return (p, new IssuedCertificate(issuer.Sign(p.Template(context), key, shared[p.Ca], validity), key));
            })
            .ToArray();
        var kubeconfigs = KubeadmCatalog.Kubeconfigs
            .Where(k => k.Exists(context.Cluster.Profile) && (initNode || !k.InitNodeOnly))
            .Select(k =>
            {
                var key = PrivateKey.Generate(algorithm);
                var cert = issuer.Sign(k.Template(context), key, shared.Cluster, validity);
                return new IssuedKubeconfig(k, new IssuedCertificate(cert, key), k.ServerUrl(context));
            })
            .ToArray();
        return new NodePki(context, shared, leaves, kubeconfigs);
    }

    /// <summary>The files of the certificates directory with kubeadm's names and modes (keys 0600, certificates 0644).</summary>
    public IReadOnlyList<PkiFile> Files()
    {
        var files = new List<PkiFile>();
        foreach (var ca in KubeadmCatalog.CertificateAuthorities)
        {
            var pair = Shared[ca.Kind];
            files.Add(PkiFile.Text(ca.CertFile, pair.CertificatePem(), PkiFile.Public));
            files.Add(PkiFile.Text(ca.KeyFile, pair.Key.ToPem(), PkiFile.Secret));
        }
        foreach (var (profile, issued) in Leaves)
        {
            files.Add(PkiFile.Text(profile.CertFile, issued.CertificatePem(), PkiFile.Public));
            files.Add(PkiFile.Text(profile.KeyFile, issued.KeyPem(), PkiFile.Secret));
        }
        files.Add(PkiFile.Text(KubeadmCatalog.ServiceAccountKeyFile, Shared.ServiceAccountKey.ToPem(), PkiFile.Secret));
        files.Add(PkiFile.Text(KubeadmCatalog.ServiceAccountPublicKeyFile, Shared.ServiceAccountKey.PublicKeyPem(), PkiFile.Secret));
        return files;
    }
}
