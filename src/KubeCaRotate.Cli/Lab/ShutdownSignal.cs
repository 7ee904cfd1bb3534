using System.Runtime.InteropServices;

namespace KubeCaRotate.Cli.Lab;

/// <summary>A token cancelled on SIGTERM or SIGINT, so long-running lab components stop cleanly (children first).</summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _int;

    public ShutdownSignal(CancellationToken outer)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
    }

    public CancellationToken Token => _cts.Token;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _cts.Cancel();
    }

    public void Dispose()
    {
        _term.Dispose();
        _int.Dispose();
        _cts.Dispose();
    }
}
