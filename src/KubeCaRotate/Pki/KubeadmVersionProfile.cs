namespace KubeCaRotate.Pki;

/// <summary>
/// The organisations kubeadm puts in certificates changed in 1.29 (kubernetes/kubernetes#121837, #120521, #119859),
/// and super-admin.conf appeared then.
/// </summary>
public enum KubeadmVersionProfile
{
    /// <summary>kubeadm 1.29 and later: kubeadm:cluster-admins, no O on etcd clients, super-admin.conf.</summary>
    Current,

    /// <summary>kubeadm before 1.29: system:masters on admin, apiserver-kubelet-client and the etcd clients.</summary>
    Before129,
}
