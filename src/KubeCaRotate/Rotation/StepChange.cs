using KubeCaRotate.Nodes;

namespace KubeCaRotate.Rotation;

/// <summary>
/// A change a step makes, as data: what the trust gate evaluates before the step, what `plan` and `--dry-run` show, and
/// what the engine applies. Shaped one to one like KubeCaRotate.Trust.ProposedChange (FileWrite, ObjectWrite, Restart)
/// so the gate's adapter is a plain mapping. Contents are kept for the gate but never printed (they may be keys).
/// </summary>
public abstract record StepChange(string Node)
{
    /// <summary>One line for a plan, without contents.</summary>
    public abstract string Describe();

    /// <summary>
    /// Writes a node file (null content deletes it). <paramref name="Backup"/> is false only for the tool's own state
    /// (staged CA, journal); every other file is backed up before its first change. Writing a static pod manifest
    /// restarts that pod, as the kubelet does.
    /// </summary>
    public sealed record FileWrite(string Node, string Path, byte[]? Content, UnixFileMode Mode, string Why, bool Backup = true) : StepChange(Node)
    {
        public override string Describe() => Content is null
            ? $"{Node}: delete {Path} ({Why})"
            : $"{Node}: write {Path} ({Why}; {Content.Length} bytes, mode {FileModes.ToOctal(Mode)})";
    }

    /// <summary>Restarts a component on a node by running a command (the inventory's restartKubelet, or restartStaticPod).</summary>
    public sealed record RunCommand(string Node, string Component, IReadOnlyList<string> Argv) : StepChange(Node)
    {
        public override string Describe() => $"{Node}: restart {Component}: run {string.Join(' ', Argv)}";
    }

    /// <summary>Sets one data field of an API object (e.g. kubeconfig of ConfigMap kube-public/cluster-info); null removes it. The object is backed up before its first change.</summary>
    public sealed record ObjectWrite(ObjectTarget Object, string Field, string? Pem, string Why = "") : StepChange("")
    {
        public override string Describe() => $"{Object}: {(Pem is null ? "remove" : "set")} {Field}{(Why.Length > 0 ? $" ({Why})" : "")}";
    }

    /// <summary>Deletes an API object (backed up first), e.g. extension-apiserver-authentication so the API servers write it anew.</summary>
    public sealed record ObjectDelete(ObjectTarget Object, string Why) : StepChange("")
    {
        public override string Describe() => $"{Object}: delete ({Why})";
    }

    /// <summary>A wait with nothing to change (the step's Verify does the waiting); shown in plans.</summary>
    public sealed record Wait(string What) : StepChange("")
    {
        public override string Describe() => "wait: " + What;
    }

    /// <summary>A rolling restart of a workload's pods (pod template annotation = stamp), as `kubectl rollout restart`.</summary>
    public sealed record RolloutRestart(WorkloadRef Workload, string Stamp) : StepChange("")
    {
        public override string Describe() => $"{Workload}: rolling restart";
    }
}
