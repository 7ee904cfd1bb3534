using KubeCaRotate.Nodes;

namespace KubeCaRotate.Cluster;

/// <summary>
/// When a node's kubelet last started, asked on the node (the inventory's kubeletStartedAt command, systemd's
/// ActiveState and ActiveEnterTimestamp by default, see <see cref="SystemdUnitActivity"/>), or why that is not known.
/// The kubelet reads kubelet.conf only at its start, so this is what tells "the file is right but the kubelet has not
/// been restarted". <see cref="NotRunning"/> is the unit's state when systemd says it does not run (inactive, failed,
/// ...): the start time is then that of a kubelet that is gone. Never an exception: a command that fails, hangs or
/// prints something else leaves the start unknown with the reason.
/// </summary>
public sealed record KubeletStart(DateTimeOffset? StartedAt, string? Unknown, string? NotRunning = null)
{
    /// <summary>How long the command may take before the start counts as unknown.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    public static async Task<KubeletStart> ReadAsync(INodeAccess node, IReadOnlyList<string> command, CancellationToken ct)
    {
        var shown = string.Join(' ', command);
        CommandResult result;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            result = await node.RunAsync(command, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Failed(node.Name, shown, $"it did not finish within {CommandTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is NodeAccessException or IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            return Failed(node.Name, shown, e.Message.TrimEnd('.'));
        }
        if (!result.Succeeded)
        {
            var detail = (result.StandardError.Trim() is { Length: > 0 } err ? err : result.StandardOutput.Trim()).ReplaceLineEndings(" ");
            if (detail.Length > 200) detail = detail[..200] + "...";
            return Failed(node.Name, shown, $"it exited with code {result.ExitCode}" + (detail.Length > 0 ? $" ({detail})" : ""));
        }
        var parsed = SystemdUnitActivity.Parse(result.StandardOutput);
        if (parsed.Error is { } error) return Failed(node.Name, shown, error);
        var notRunning = parsed.Running ? null : parsed.ActiveState;
        if (parsed.Entered.At is { } at) return new KubeletStart(at, null, notRunning);
        return Failed(node.Name, shown, "it printed no timestamp, so the kubelet has not started since boot") with { NotRunning = notRunning };
    }

    private static KubeletStart Failed(string node, string command, string why) =>
        new(null, $"'{command}' on node {node} gave no start time: {why}");
}
