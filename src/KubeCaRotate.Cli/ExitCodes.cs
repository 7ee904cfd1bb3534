namespace KubeCaRotate.Cli;

/// <summary>The tool's exit codes; documented in the README. Scripts rely on them: never renumber.</summary>
public static class ExitCodes
{
    /// <summary>Done, nothing wrong found.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and found problems (pki inspect: defects in the certificates; demo: the rotation did not complete or the prober saw a trust failure).</summary>
    public const int ProblemsFound = 1;

    /// <summary>The command line or its input is wrong (unknown option, missing directory, unreadable file), or a change was not confirmed (pass --yes): nothing was changed.</summary>
    public const int UsageError = 2;

    /// <summary>Something failed while the command ran; the message says what and what to do.</summary>
    public const int Failed = 3;

    /// <summary>verify: nothing is broken now, but edges are at risk (the files on disk would break them at the next restart, or a component has not been restarted to load a changed file).</summary>
    public const int AtRisk = 4;

    /// <summary>start/complete/rollback: the trust gate refused a step because applying it would break a connection that must stay up; nothing of that step was changed, the journal is consistent.</summary>
    public const int Refused = 5;
}
