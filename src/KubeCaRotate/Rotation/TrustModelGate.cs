using System.Text;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Trust;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The trust graph as the engine's gate: a <see cref="ClusterSnapshot"/> read once before the run, plus every change of
/// the steps this gate has allowed so far (the engine applies a step only after the gate allowed it, so those are the
/// changes made). For each step it evaluates snapshot + applied + proposed against snapshot + applied and refuses with
/// one reason per edge that would go from working to broken, e.g. "kubelet on node worker-1 → the HA endpoint
/// 127.0.0.10:6443 would break: ...". An edge broken before the step is not the step's fault and is not a reason.
/// A file write to a static pod manifest restarts that pod in the model, as the kubelet does.
/// </summary>
public sealed class TrustModelGate(ClusterSnapshot snapshot, TrustModel model, TimeProvider? time = null) : ITrustGate
{
    private readonly List<ProposedChange> _applied = [];
    private readonly Lock _lock = new();
    private TrustReport? _current;

    /// <summary>The changes of every allowed step, in order, as the trust model sees them.</summary>
    public IReadOnlyList<ProposedChange> Applied => _applied;

    /// <summary>
    /// The engine runs the steps of a batch on several nodes at once: checks are serialized, so each one sees the
    /// changes of every step allowed before it (and the list of applied changes is never written while read).
    /// </summary>
    public Task<IReadOnlyList<string>> CheckAsync(Step step, IReadOnlyList<StepChange> changes, RotationNodes nodes, CancellationToken ct)
    {
        lock (_lock) return Check(changes, ct);
    }

    private Task<IReadOnlyList<string>> Check(IReadOnlyList<StepChange> changes, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var proposed = changes.SelectMany(Map).ToList();
        var at = time?.GetUtcNow() ?? snapshot.TakenAt;
        _current ??= model.EvaluateAfter(snapshot, _applied, at);
        if (proposed.Count == 0) return Task.FromResult<IReadOnlyList<string>>([]);
        var after = model.EvaluateAfter(snapshot, [.. _applied, .. proposed], at);
        var reasons = new List<string>();
        foreach (var edge in after.Edges.Where(e => e.State == EdgeState.Broken))
        {
            if (_current.Edge(edge.Id) is { State: EdgeState.Broken }) continue;
            reasons.Add($"{edge.ClientEnd.Description} → {edge.ServerEnd.Description} would break ({edge.Id}): {string.Join(" ", edge.Reasons)}");
        }
        if (reasons.Count == 0)
        {
            _applied.AddRange(proposed);
            _current = after;
        }
        return Task.FromResult<IReadOnlyList<string>>(reasons);
    }

    /// <summary>One step change as the trust model's changes (none for what does not touch trust material).</summary>
    private IEnumerable<ProposedChange> Map(StepChange change)
    {
        switch (change)
        {
            case StepChange.FileWrite f:
                yield return new ProposedChange.FileWrite(f.Node, f.Path, f.Content);
                break;
            case StepChange.RunCommand r:
                yield return new ProposedChange.Restart(r.Node, r.Component);
                break;
            case StepChange.ObjectWrite o:
                yield return ObjectWrite(o);
                break;
            case StepChange.RolloutRestart roll:
                // A workload's pods are named after it: Deployment NAME-HASH-ID, DaemonSet NAME-ID, StatefulSet NAME-N.
                foreach (var pod in snapshot.Objects?.Pods ?? [])
                    if (!pod.IsMirror && pod.Namespace == roll.Workload.Namespace && pod.Name.StartsWith(roll.Workload.Name + "-", StringComparison.Ordinal))
                        yield return new ProposedChange.RestartPods(pod.Namespace, pod.Name);
                break;
            case StepChange.ObjectDelete:
                // extension-apiserver-authentication is written anew by the API servers from their own files.
                break;
        }
    }

    private static ProposedChange.ObjectWrite ObjectWrite(StepChange.ObjectWrite o)
    {
        var obj = new ObjectRef(o.Object.Kind, o.Object.Namespace, o.Object.Name);
        if (obj == ClusterObjects.ClusterInfo && o.Field == "kubeconfig")
        {
            string? ca = null;
            if (o.Pem is not null)
            {
                try
                {
                    ca = Kubeconfig.Parse(Encoding.UTF8.GetBytes(o.Pem), obj.ToString()).Clusters.FirstOrDefault()?.CertificateAuthorityData is { } data ? Encoding.ASCII.GetString(data) : null;
                }
                catch (LayoutFormatException)
                {
                }
            }
            return new ProposedChange.ObjectWrite(obj, "kubeconfig certificate-authority-data", ca);
        }
        var field = o.Field.Contains('[', StringComparison.Ordinal) || o.Field.Contains('.', StringComparison.Ordinal) && o.Field.StartsWith("spec", StringComparison.Ordinal)
            ? o.Field
            : $"data[{o.Field}]";
        return new ProposedChange.ObjectWrite(obj, field, o.Pem);
    }
}
