using k8s.Models;

namespace KubeCaRotate.Cluster;

/// <summary>Where a workload's rollout stands: done, still going (with what it waits for), or never going to finish by itself.</summary>
public sealed record RolloutStatus(RolloutState State, string Detail)
{
    private static RolloutStatus Done(string detail) => new(RolloutState.Done, detail);

    private static RolloutStatus Waiting(string detail) => new(RolloutState.Waiting, detail);

    private static RolloutStatus Stuck(string detail) => new(RolloutState.Stuck, detail);

    private static bool Observed(long? generation, long? observed) => observed is { } o && generation is { } g ? g <= o : generation is null;

    /// <summary>kubectl rollout status for a Deployment: generation observed, every replica updated, no old one left, every updated one available.</summary>
    public static RolloutStatus Of(V1Deployment d)
    {
        var status = d.Status;
        if (!Observed(d.Metadata?.Generation, status?.ObservedGeneration)) return Waiting("the controller has not yet seen the new pod template");
        if (status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing") is { Reason: "ProgressDeadlineExceeded" } stalled)
            return Stuck($"it exceeded its progress deadline ({stalled.Message})");
        var desired = d.Spec?.Replicas ?? 1;
        var updated = status?.UpdatedReplicas ?? 0;
        if (updated < desired) return Waiting($"{updated} of {desired} new replicas have been updated");
        if ((status?.Replicas ?? 0) > updated) return Waiting($"{status!.Replicas - updated} old replicas are pending termination");
        var available = status?.AvailableReplicas ?? 0;
        if (available < updated) return Waiting($"{available} of {updated} updated replicas are available");
        return Done($"{updated} replicas updated and available");
    }

    /// <summary>kubectl rollout status for a DaemonSet: generation observed, every scheduled pod updated and available.</summary>
    public static RolloutStatus Of(V1DaemonSet ds)
    {
        if (ds.Spec?.UpdateStrategy?.Type is { } type && type != "RollingUpdate")
            return Stuck($"its update strategy is {type}, so a restart does not replace its pods; delete its pods one node at a time (or set updateStrategy RollingUpdate)");
        var status = ds.Status;
        if (!Observed(ds.Metadata?.Generation, status?.ObservedGeneration)) return Waiting("the controller has not yet seen the new pod template");
        var desired = status?.DesiredNumberScheduled ?? 0;
        var updated = status?.UpdatedNumberScheduled ?? 0;
        if (updated < desired) return Waiting($"{updated} of {desired} updated pods have been scheduled");
        var available = status?.NumberAvailable ?? 0;
        if (available < desired) return Waiting($"{available} of {desired} updated pods are available");
        return Done($"{desired} pods updated and available");
    }

    /// <summary>
    /// kubectl rollout status for a StatefulSet: generation observed, every replica ready, and the current revision the
    /// update revision. A partitioned rolling update is refused: the pods below the partition would keep their old trust.
    /// </summary>
    public static RolloutStatus Of(V1StatefulSet sts)
    {
        if (sts.Spec?.UpdateStrategy?.Type is { } type && type != "RollingUpdate")
            return Stuck($"its update strategy is {type}, so a restart does not replace its pods; delete its pods one at a time (or set updateStrategy RollingUpdate)");
        if (sts.Spec?.UpdateStrategy?.RollingUpdate?.Partition is > 0 and var partition)
            return Stuck($"its rolling update has partition {partition}, so pods below ordinal {partition} are never replaced and keep the old trust; set the partition to 0 (or delete those pods)");
        var status = sts.Status;
        if (status?.ObservedGeneration is null or 0 || !Observed(sts.Metadata?.Generation, status.ObservedGeneration))
            return Waiting("the controller has not yet seen the new pod template");
        var desired = sts.Spec?.Replicas ?? 1;
        var ready = status.ReadyReplicas ?? 0;
        if (ready < desired) return Waiting($"{ready} of {desired} pods are ready");
        var updated = status.UpdatedReplicas ?? 0;
        if (updated < desired) return Waiting($"{updated} of {desired} pods are at the new revision");
        if (status.UpdateRevision != status.CurrentRevision)
            return Waiting($"{status.UpdatedReplicas ?? 0} pods are at revision {status.UpdateRevision}, the current revision is still {status.CurrentRevision}");
        return Done($"{desired} pods at revision {status.CurrentRevision}");
    }
}

public enum RolloutState
{
    Done,
    Waiting,
    Stuck,
}
