using KubeCaRotate.Nodes;

namespace KubeCaRotate.Rotation;

/// <summary>Builders for the common step shapes: "edit one file with a pure function" and "restart a component".</summary>
public static class FileStep
{
    public const string RestartAnnotation = "kube-ca-rotate.io/restarted-for";

    /// <summary>
    /// A step that edits one node file with a pure, idempotent function of its bytes (null: absent). It proposes a write
    /// only when the function changes the bytes; it verifies by reading the file back. A function returning null
    /// means "leave the file as it is" (e.g. a flag the operator set to something else).
    /// </summary>
    public static Step Edit(string id, string name, string[] rows, string batch, string node, string path, UnixFileMode mode, string why,
        Func<StepContext, byte[]?, CancellationToken, Task<byte[]?>> edit, bool backup = true) => new()
    {
        Id = id, Name = name, ProcedureRows = rows, Batch = batch, Node = node,
        Propose = async (ctx, ct) =>
        {
            var access = ctx.Nodes[node].Access;
            var current = await access.ReadFileAsync(path, ct).ConfigureAwait(false);
            var next = await edit(ctx, current, ct).ConfigureAwait(false);
            if (next is null || current is not null && next.AsSpan().SequenceEqual(current)) return [];
            return [new StepChange.FileWrite(node, path, next, mode, why, backup)];
        },
        Verify = ReadBack,
    };

    /// <summary>A Verify that reads every written file back and compares it with what was written.</summary>
    public static async Task ReadBack(StepContext ctx, IReadOnlyList<StepChange> changes, DateTimeOffset at, CancellationToken ct)
    {
        foreach (var write in changes.OfType<StepChange.FileWrite>())
        {
            var now = await ctx.Nodes[write.Node].Access.ReadFileAsync(write.Path, ct).ConfigureAwait(false);
            var same = write.Content is null ? now is null : now is not null && now.AsSpan().SequenceEqual(write.Content);
            if (!same) throw new RotationException($"{write.Node}:{write.Path} does not hold what was just written to it; something else changes it: find what, stop it, and run again.");
        }
    }

    /// <summary>
    /// Restarts a static pod: by the inventory's restartStaticPod command when there is one, otherwise by setting an
    /// annotation naming the step in its manifest, a content change the kubelet answers with a restart (as kubeadm upgrade
    /// does) and that is done once set. Verify waits for the mirror pod to have restarted (skipped in a dry run).
    /// </summary>
    public static Step RestartStaticPod(string id, string name, string[] rows, string batch, RotationNode node, string component, string manifestPath)
    {
        if (node.RestartStaticPod is { Count: > 0 } command)
        {
            var argv = command.Select(a => a.Replace("{component}", component, StringComparison.Ordinal)).ToArray();
            return new Step
            {
                Id = id, Name = name, ProcedureRows = rows, Batch = batch, Node = node.Name,
                Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.RunCommand(node.Name, component, argv)]),
                IsDone = (_, _) => Task.FromResult(false),
                Verify = WaitForStaticPod(node.Name, component),
            };
        }
        var edit = Edit(id, name, rows, batch, node.Name, manifestPath, FileModes.Private, $"restart {component}",
            (ctx, current, _) => Task.FromResult(current is null
                ? throw new RotationException($"{node.Name}:{manifestPath} is missing, so {component} cannot be restarted; restore the manifest from the backup or from kubeadm.")
                : (byte[]?)TrustStoreEdits.ManifestAnnotation(current, RestartAnnotation, $"{ctx.RotationId}/{id}", $"{node.Name}:{manifestPath}")));
        var readBack = edit.Verify!;
        return edit with
        {
            Verify = async (ctx, changes, at, ct) =>
            {
                await readBack(ctx, changes, at, ct).ConfigureAwait(false);
                await WaitForStaticPod(node.Name, component)(ctx, changes, at, ct).ConfigureAwait(false);
            },
        };
    }

    /// <summary>
    /// Restarts the kubelet with the inventory's command; done only once journaled. Verify waits for the node to be Ready
    /// again. Running containers are not touched (the container runtime keeps them), but the kubelet's own API is down
    /// while it restarts: that is announced as the step's disruption.
    /// </summary>
    public static Step RestartKubelet(string id, string[] rows, string batch, RotationNode node) => new()
    {
        Id = id, Name = $"restart the kubelet on {node.Name}", ProcedureRows = rows, Batch = batch, Node = node.Name,
        Disruption = KubeletRestartDisruption,
        Propose = (_, _) => Task.FromResult<IReadOnlyList<StepChange>>([new StepChange.RunCommand(node.Name, "kubelet", node.RestartKubelet)]),
        IsDone = (_, _) => Task.FromResult(false),
        Verify = async (ctx, _, at, ct) =>
        {
            if (ctx.DryRun) return;
            if (ctx.Restarts is null) throw NoObserver(node.Name, "the kubelet");
            await ctx.Restarts.WaitKubeletRestartedAsync(node.Name, at, ct).ConfigureAwait(false);
        },
    };

    /// <summary>What a kubelet restart interrupts: its API on port 10250, which the API servers call for logs, exec, attach, port-forward and metrics.</summary>
    public const string KubeletRestartDisruption =
        "a restarting kubelet's API (kubectl logs, exec, attach, port-forward and metrics scrapes on that node) does not answer, and the kubelet does not reach the API server, until it is back (typically seconds); running pods are not touched";

    private static Func<StepContext, IReadOnlyList<StepChange>, DateTimeOffset, CancellationToken, Task> WaitForStaticPod(string node, string component) =>
        async (ctx, _, at, ct) =>
        {
            if (ctx.DryRun) return;
            if (ctx.Restarts is null) throw NoObserver(node, component);
            await ctx.Restarts.WaitStaticPodRestartedAsync(node, component, at, ct).ConfigureAwait(false);
        };

    public static RotationException NoObserver(string node, string component) =>
        new($"Nothing can watch {component} on {node} come back after its restart (no cluster connection was given); run with --kubeconfig or an inventory naming one.");
}
