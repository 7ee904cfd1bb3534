namespace KubeCaRotate.Trust;

/// <summary>The connections of a kubeadm cluster (who connects to whom).</summary>
public enum EdgeKind
{
    /// <summary>An admin kubeconfig (the operator's, or admin.conf / super-admin.conf on a node) to an API server or the HA endpoint.</summary>
    Admin,

    /// <summary>The controller-manager to the API server its controller-manager.conf names.</summary>
    ControllerManager,

    /// <summary>The scheduler to the API server its scheduler.conf names.</summary>
    Scheduler,

    /// <summary>A kubelet to the API server its kubelet.conf names.</summary>
    Kubelet,

    /// <summary>An API server to a kubelet's HTTPS API (apiserver-kubelet-client vs the kubelet's clientCAFile).</summary>
    KubeletApi,

    /// <summary>An API server to an etcd member.</summary>
    EtcdClient,

    /// <summary>One etcd member to another over the peer URL.</summary>
    EtcdPeer,

    /// <summary>An API server (front-proxy client) to an aggregated API server.</summary>
    Aggregator,

    /// <summary>A workload pod with in-cluster config to the API server.</summary>
    Pod,
}
