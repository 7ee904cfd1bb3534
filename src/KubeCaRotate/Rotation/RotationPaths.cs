using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// Where a rotation keeps its state on every control-plane node: beside the CA material, inside the certificates
/// directory (so it is on the same disk, under the same permissions, and mounted into the controller-manager pod):
/// <code>
/// &lt;certificatesDir&gt;/.kube-ca-rotate/
///   journal.json                        the run's journal (0600)
///   staged/&lt;ca&gt;.crt, &lt;ca&gt;.key          the new CA (key 0600); &lt;ca&gt;-cross-signed.crt with --cross-sign
///   signer/&lt;ca&gt;.crt                     single-certificate copy for KCM --cluster-signing-cert-file / --client-ca-file
///   backup/&lt;rotation-id&gt;/files/&lt;path&gt;   original bytes of every file before its first change (0600)
///   backup/&lt;rotation-id&gt;/index/&lt;path&gt;.json  what was there (or that nothing was), written after the copy
/// </code>
/// </summary>
public sealed record RotationPaths(KubeadmPaths Kubeadm)
{
    public const string StateDirName = ".kube-ca-rotate";

    public static RotationPaths Default { get; } = new(KubeadmPaths.Default);

    public string StateDir => Kubeadm.Pki(StateDirName);

    public string Journal => NodePath.Combine(StateDir, "journal.json");

    public string StagedCert(CaKind ca) => NodePath.Combine(StateDir, "staged", Name(ca) + ".crt");

    public string StagedKey(CaKind ca) => NodePath.Combine(StateDir, "staged", Name(ca) + ".key");

    public string StagedCrossSigned(CaKind ca) => NodePath.Combine(StateDir, "staged", Name(ca) + "-cross-signed.crt");

    /// <summary>The single-certificate file KCM's signer reads while the CA file is a bundle (reference/kubeadm-pki.md §9.2).</summary>
    public string SignerCopy(CaKind ca) => NodePath.Combine(StateDir, "signer", Name(ca) + ".crt");

    public string BackupDir(string rotationId) => NodePath.Combine(StateDir, "backup", rotationId);

    public string BackupCopy(string rotationId, string path) => NodePath.Combine(BackupDir(rotationId), "files", path.TrimStart('/'));

    public string BackupIndex(string rotationId, string path) => NodePath.Combine(BackupDir(rotationId), "index", path.TrimStart('/') + ".json");

    /// <summary>The active CA certificate file of a CA (ca.crt, front-proxy-ca.crt, etcd/ca.crt).</summary>
    public string CaCert(CaKind ca) => Kubeadm.Pki(KubeadmCatalog.Ca(ca).CertFile);

    public string CaKey(CaKind ca) => Kubeadm.Pki(KubeadmCatalog.Ca(ca).KeyFile);

    /// <summary>"ca", "front-proxy-ca", "etcd-ca": kubeadm's names, used in file names and step ids.</summary>
    public static string Name(CaKind ca) => KubeadmCatalog.Ca(ca).Name;
}
