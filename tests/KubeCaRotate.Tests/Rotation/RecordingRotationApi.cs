using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>
/// The API side for rotations over node directories (no API server): restarts are recorded, there are no workloads,
/// kube-root-ca.crt waits are recorded, extension-apiserver-authentication is what the first control plane's CA files
/// say (as its API server would publish them), other objects live in memory. Lab tests use the real Cluster part.
/// </summary>
public sealed class RecordingRotationApi(RecordingRestartObserver restarts, INodeAccess firstControlPlane) : IWorkloads, IRootCaWatch, IClusterObjects, IObjectBackup, IRotationLock
{
    private readonly Dictionary<string, Dictionary<string, string>> _objects = [];

    public List<IReadOnlyList<string>> RootCaWaits { get; } = [];

    /// <summary>Puts an object with these data fields in place (as if it were in the cluster).</summary>
    public void Seed(ObjectTarget target, Dictionary<string, string> data)
    {
        lock (_objects) _objects[target.ToString()] = new Dictionary<string, string>(data);
    }

    public RotationApi Api => new(restarts, this, this, this, this, this);

    public Task<IReadOnlyList<WorkloadRef>> ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<WorkloadRef>>([]);

    public Task<bool> IsRestartedAsync(WorkloadRef workload, string stamp, CancellationToken ct) => Task.FromResult(true);

    public Task<bool> RestartAsync(WorkloadRef workload, string stamp, CancellationToken ct) => Task.FromResult(false);

    public Task WaitRolledOutAsync(WorkloadRef workload, CancellationToken ct) => Task.CompletedTask;

    public Task WaitPublishedAsync(IReadOnlyList<X509Certificate2> expected, CancellationToken ct)
    {
        lock (RootCaWaits) RootCaWaits.Add(expected.Select(CertificateFacts.Sha256Fingerprint).ToList());
        return Task.CompletedTask;
    }

    public async Task<string?> ReadFieldAsync(ObjectTarget target, string field, CancellationToken ct)
    {
        if (target == PhaseSteps.ExtensionApiserverAuthentication)
        {
            var file = field == "client-ca-file" ? "/etc/kubernetes/pki/ca.crt" : "/etc/kubernetes/pki/front-proxy-ca.crt";
            return await firstControlPlane.ReadFileAsync(file, ct) is { } bytes ? Encoding.ASCII.GetString(bytes) : null;
        }
        lock (_objects) return _objects.TryGetValue(target.ToString(), out var data) && data.TryGetValue(field, out var value) ? value : null;
    }

    public Task WriteFieldAsync(ObjectTarget target, string field, string? value, CancellationToken ct)
    {
        lock (_objects)
        {
            if (!_objects.TryGetValue(target.ToString(), out var data)) throw new RotationException($"{target} does not exist.");
            if (value is null) data.Remove(field);
            else data[field] = value;
        }
        return Task.CompletedTask;
    }

    public Task<bool> ExistsAsync(ObjectTarget target, CancellationToken ct)
    {
        if (target == PhaseSteps.ExtensionApiserverAuthentication) return Task.FromResult(true);
        lock (_objects) return Task.FromResult(_objects.ContainsKey(target.ToString()));
    }

    public Task<bool> DeleteAsync(ObjectTarget target, CancellationToken ct)
    {
        lock (_objects) return Task.FromResult(_objects.Remove(target.ToString()));
    }

    public Task<bool> BackupAsync(string rotationId, ObjectTarget target, CancellationToken ct = default) => Task.FromResult(false);

    public Task<bool> RestoreAsync(string rotationId, ObjectTarget target, CancellationToken ct = default) => Task.FromResult(false);

    public Task<IReadOnlyList<ObjectTarget>> BackedUpAsync(string rotationId, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<ObjectTarget>>([]);

    public Task<IAsyncDisposable> AcquireAsync(string rotationId, CancellationToken ct) => Task.FromResult<IAsyncDisposable>(new Released());

    public Task PublishSummaryAsync(RotationJournal journal, CancellationToken ct) => Task.CompletedTask;

    private sealed class Released : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
