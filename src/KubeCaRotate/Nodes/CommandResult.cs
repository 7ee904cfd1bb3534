namespace KubeCaRotate.Nodes;

/// <summary>What a command run on a node returned.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws a <see cref="NodeAccessException"/> naming the node and the command when it failed.</summary>
    public CommandResult EnsureSuccess(string nodeName, IReadOnlyList<string> argv)
    {
        if (Succeeded)
        {
            return this;
        }

        var detail = StandardError.Trim();
        if (detail.Length == 0)
        {
            detail = StandardOutput.Trim();
        }

        if (detail.Length > 500)
        {
            detail = detail[..500] + "...";
        }

        var command = string.Join(' ', argv);
        throw new NodeAccessException(
            nodeName,
            argv.Count > 0 ? argv[0] : "",
            $"The command '{command}' failed on node {nodeName} with exit code {ExitCode}" +
            (detail.Length > 0 ? $": {detail}" : "."));
    }
}
