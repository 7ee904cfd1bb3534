using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// The rotation's own API connection. It is built from admin.conf as it is on a control-plane node (read through the
/// node's access), not from the operator's copy: the rotation rewrites that file as trust moves (old + new CA data,
/// then a new-CA client certificate, then the new CA alone), so a connection built from it keeps working through
/// every phase. <see cref="CallAsync{T}"/> builds a fresh client from the file and tries once more when a call fails
/// for a reason a changed certificate explains (TLS failure, 401).
/// </summary>
public sealed class RotationApiConnection(RotationNodes nodes, RotationPaths paths, ClusterApiOptions? options = null) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private ClusterApi? _current;

    public ClusterApiOptions Options { get; } = options ?? new ClusterApiOptions();

    /// <summary>The current client, built on first use.</summary>
    public async Task<ClusterApi> GetAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _current) is { } current) return current;
        return await RenewAsync(null, ct).ConfigureAwait(false);
    }

    /// <summary>A client built from admin.conf read again from the first control-plane node that has it; replaces <paramref name="stale"/> (null: whatever is current).</summary>
    public async Task<ClusterApi> RenewAsync(ClusterApi? stale, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_current is not null && stale is not null && !ReferenceEquals(_current, stale)) return _current;
            var failures = new List<string>();
            foreach (var cp in nodes.ControlPlanes)
            {
                byte[]? bytes;
                try
                {
                    bytes = await cp.Access.ReadFileAsync(paths.Kubeadm.AdminConf, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    failures.Add($"{cp.Name}: {e.Message.TrimEnd('.')}");
                    continue;
                }
                if (bytes is null)
                {
                    failures.Add($"{cp.Name}: {paths.Kubeadm.AdminConf} is missing");
                    continue;
                }
                var next = ClusterApi.FromKubeconfigBytes(bytes, $"{cp.Name}:{paths.Kubeadm.AdminConf}", Options);
                var old = _current;
                _current = next;
                // The old client may still have calls in flight; it is left to the garbage collector rather than disposed under them.
                _ = old;
                return next;
            }
            throw new RotationException($"No control-plane node gives an admin kubeconfig to reach the API with ({string.Join("; ", failures)}); restore {paths.Kubeadm.AdminConf} on a control-plane node.");
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> with the current client; when it fails with a TLS failure or 401 (a certificate the
    /// rotation just changed), builds a client from admin.conf again and tries once more.
    /// </summary>
    public async Task<T> CallAsync<T>(Func<ClusterApi, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var api = await GetAsync(ct).ConfigureAwait(false);
        try
        {
            return await call(api, ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.StatusCode == 401 || e.StatusCode is null && IsTls(e))
        {
            api = await RenewAsync(api, ct).ConfigureAwait(false);
            return await call(api, ct).ConfigureAwait(false);
        }
    }

    private static bool IsTls(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (inner is System.Security.Authentication.AuthenticationException or IOException) return true;
        return false;
    }

    public void Dispose()
    {
        _current?.Dispose();
        _lock.Dispose();
    }
}
