namespace KubeCaRotate.Lab.Prober;

/// <summary>The kinds of trust edge of a kubeadm cluster the prober opens (who connects to whom, with what).</summary>
public enum EdgeKind
{
    /// <summary>admin.conf (as on disk: kubectl reads it each time) to one API server directly.</summary>
    Admin,

    /// <summary>admin.conf to the HA endpoint (controlPlaneEndpoint): the edge that must never go down.</summary>
    Endpoint,

    /// <summary>The controller-manager of a node to its API server, with the controller-manager.conf it loaded.</summary>
    ControllerManager,

    /// <summary>The scheduler of a node to its API server, with the scheduler.conf it loaded.</summary>
    Scheduler,

    /// <summary>A kubelet to the API server its kubelet.conf names: CA as loaded, client certificate as current.</summary>
    Kubelet,

    /// <summary>A workload pod to the API server: the ca.crt and token it read at its start.</summary>
    Pod,

    /// <summary>An API server to a kubelet's HTTPS API, with apiserver-kubelet-client (current file).</summary>
    KubeletApi,

    /// <summary>An API server to its etcd servers, with the --etcd-* files it loaded.</summary>
    EtcdClient,

    /// <summary>One etcd member to another over the peer URL: current peer certificate, loaded peer CA.</summary>
    EtcdPeer,

    /// <summary>An API server to an aggregated API server, with front-proxy-client (current file).</summary>
    Aggregator,
}
