namespace KubeCaRotate.Lab.Processes;

/// <summary>
/// What to run as a lab component: the program and its arguments (never a shell string), extra environment,
/// working directory, the file that receives its stdout and stderr, and the pid file that lets a later
/// CLI invocation (e.g. <c>lab down</c>) find it again.
/// </summary>
public sealed record ChildProcessSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    string LogFile,
    string PidFile)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public string? WorkingDirectory { get; init; }
}
