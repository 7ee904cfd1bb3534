namespace KubeCaRotate.Rotation;

/// <summary>
/// Asked by the engine before every step: would the state after these changes break a connection that must stay up?
/// Returns the reasons (empty: allowed). The Trust part's what-if evaluation (TrustModel.Evaluate over a
/// ClusterSnapshot) is adapted to this by mapping each <see cref="StepChange"/> to a Trust.ProposedChange
/// (FileWrite→FileWrite, RunCommand→Restart(node, component), ObjectWrite→ObjectWrite) and turning every required edge
/// that goes from up to down into a reason. <paramref name="nodes"/> are the nodes the engine works on (dry-run wrapped
/// in a dry run), so a gate reads the same state the step saw.
/// </summary>
public interface ITrustGate
{
    Task<IReadOnlyList<string>> CheckAsync(Step step, IReadOnlyList<StepChange> changes, RotationNodes nodes, CancellationToken ct);
}

/// <summary>Several gates; a step passes when every one allows it, and a refusal carries every gate's reasons.</summary>
public sealed class AllTrustGates(params ITrustGate[] gates) : ITrustGate
{
    public async Task<IReadOnlyList<string>> CheckAsync(Step step, IReadOnlyList<StepChange> changes, RotationNodes nodes, CancellationToken ct)
    {
        var reasons = new List<string>();
        foreach (var gate in gates) reasons.AddRange(await gate.CheckAsync(step, changes, nodes, ct).ConfigureAwait(false));
        return reasons;
    }
}
