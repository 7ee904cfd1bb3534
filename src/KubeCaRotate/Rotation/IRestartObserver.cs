namespace KubeCaRotate.Rotation;

/// <summary>
/// Waits for components to come back after a restart step, as the step's Verify. The Cluster part implements it over
/// the API (the mirror pod of a static pod started after <c>after</c> and Ready, readyz of an API server, a healthy etcd
/// member; the Node Ready with a kubelet started after <c>after</c>). Methods throw <see cref="RotationException"/> when
/// the component does not come back in time, naming the node, the component and what to look at.
/// </summary>
public interface IRestartObserver
{
    Task WaitStaticPodRestartedAsync(string node, string component, DateTimeOffset after, CancellationToken ct);

    Task WaitKubeletRestartedAsync(string node, DateTimeOffset after, CancellationToken ct);
}
