using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace KubeCaRotate.Cluster;

/// <summary>
/// The Kubernetes API as the tool uses it, through the official client: paged listing across all namespaces, the
/// reads and writes a rotation needs, retries of 429/5xx/409 and dropped connections with exponential back-off,
/// and a bound on requests in flight. The client trusts the CA data its kubeconfig held when it was built, so
/// after any trust change build a new one with <see cref="Renew"/>.
/// </summary>
public sealed class ClusterApi : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly string? _kubeconfigPath;

    private ClusterApi(IKubernetes client, string? kubeconfigPath, string? context, string server, ClusterApiOptions options)
    {
        Client = client;
        _kubeconfigPath = kubeconfigPath;
        Context = context;
        Server = server;
        Options = options;
        _slots = new SemaphoreSlim(options.MaxConcurrency);
    }

    /// <summary>The underlying client, for calls this type does not wrap (still subject to the caller's own retries).</summary>
    public IKubernetes Client { get; }

    public string? Context { get; }

    /// <summary>The API server URL the client talks to.</summary>
    public string Server { get; }

    public ClusterApiOptions Options { get; }

    /// <summary>A client from a kubeconfig file and context (the current context when null).</summary>
    public static ClusterApi FromKubeconfig(string path, string? context = null, ClusterApiOptions? options = null)
    {
        options ??= new ClusterApiOptions();
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ClusterApiException($"The kubeconfig {full} does not exist; pass --kubeconfig with the path of an admin kubeconfig.");
        KubernetesClientConfiguration config;
        try
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(full, currentContext: context);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or FormatException or ArgumentException)
        {
            throw new ClusterApiException($"The kubeconfig {full} cannot be used{(context is null ? "" : $" with context {context}")}: {e.Message.TrimEnd('.')}; check the file and the context name.", inner: e);
        }
        config.HttpClientTimeout = options.RequestTimeout;
        return new ClusterApi(new Kubernetes(config), full, context, config.Host, options);
    }

    /// <summary>A client from kubeconfig bytes read elsewhere (e.g. a control-plane node's admin.conf); <paramref name="source"/> names them in errors.</summary>
    public static ClusterApi FromKubeconfigBytes(byte[] kubeconfig, string source, ClusterApiOptions? options = null)
    {
        options ??= new ClusterApiOptions();
        KubernetesClientConfiguration config;
        try
        {
            using var stream = new MemoryStream(kubeconfig, writable: false);
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(stream);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or FormatException or ArgumentException or YamlDotNet.Core.YamlException)
        {
            throw new ClusterApiException($"The kubeconfig {source} cannot be used: {e.Message.TrimEnd('.')}; check the file.", inner: e);
        }
        config.HttpClientTimeout = options.RequestTimeout;
        return new ClusterApi(new Kubernetes(config), null, null, config.Host, options);
    }

    /// <summary>A client over an already configured <see cref="IKubernetes"/> (tests, or a caller's own configuration).</summary>
    public static ClusterApi FromClient(IKubernetes client, string server, ClusterApiOptions? options = null) =>
        new(client, null, null, server, options ?? new ClusterApiOptions());

    /// <summary>A new client from the same kubeconfig read again: use it after the kubeconfig's CA data changed.</summary>
    public ClusterApi Renew()
    {
        if (_kubeconfigPath is null) throw new InvalidOperationException("This API client was not built from a kubeconfig, so it cannot be renewed; build a new one.");
        return FromKubeconfig(_kubeconfigPath, Context, Options);
    }

    /// <summary>
    /// Runs one call with the concurrency bound and retries: 429, 5xx and 409 answers and dropped connections are
    /// retried with back-off; anything else, or the last failure, becomes a <see cref="ClusterApiException"/> whose
    /// message names <paramref name="what"/>.
    /// </summary>
    public async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var delay = Options.InitialBackoff;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            Exception failure;
            int? status = null;
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e)
            {
                failure = e;
                status = (int)e.Response.StatusCode;
                if (e.Response.Headers.TryGetValue("Retry-After", out var values)
                    && int.TryParse(values.FirstOrDefault(), out var seconds)) retryAfter = TimeSpan.FromSeconds(Math.Min(seconds, 30));
                if (!IsRetried(e.Response.StatusCode)) throw new ClusterApiException($"Cannot {what}: the API server at {Server} answered {status} {Reason(e)}.", status, e);
            }
            catch (HttpRequestException e)
            {
                failure = e;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                failure = e; // the request timed out
            }
            finally
            {
                _slots.Release();
            }

            if (attempt >= Options.MaxAttempts)
            {
                var answer = status is null ? failure.Message.TrimEnd('.') : $"answered {status} {Reason(failure as HttpOperationException)}";
                throw new ClusterApiException($"Cannot {what}: the API server at {Server} {(status is null ? "could not be reached (" + answer + ")" : answer)} after {attempt} attempts; check that it is up and reachable.", status, failure);
            }

            await Task.Delay(retryAfter ?? delay, Options.Time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Options.MaxBackoff.Ticks));
        }
    }

    /// <summary>
    /// Every item of a list, page by page (limit/continue). An expired continue token (410) restarts the listing,
    /// as client-go's pager does with a full list.
    /// </summary>
    public async Task<IReadOnlyList<TItem>> ListAllAsync<TItem>(string what, Func<string?, int, CancellationToken, Task<(IList<TItem>? Items, string? Continue)>> page, CancellationToken cancellationToken)
    {
        var items = new List<TItem>();
        string? token = null;
        var restarts = 0;
        while (true)
        {
            (IList<TItem>? Items, string? Continue) result;
            try
            {
                var current = token;
                result = await CallAsync(what, ct => page(current, Options.PageSize, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (ClusterApiException e) when (e.StatusCode == 410 && restarts++ < 3)
            {
                items.Clear();
                token = null;
                continue;
            }
            if (result.Items is not null) items.AddRange(result.Items);
            token = string.IsNullOrEmpty(result.Continue) ? null : result.Continue;
            if (token is null) return items;
        }
    }

    public Task<IReadOnlyList<V1ConfigMap>> ListConfigMapsAsync(CancellationToken ct) =>
        ListAllAsync("list ConfigMaps in all namespaces", async (c, limit, t) =>
        {
            var l = await Client.CoreV1.ListConfigMapForAllNamespacesAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1Secret>> ListSecretsAsync(CancellationToken ct) =>
        ListAllAsync("list Secrets in all namespaces", async (c, limit, t) =>
        {
            var l = await Client.CoreV1.ListSecretForAllNamespacesAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1Pod>> ListPodsAsync(CancellationToken ct) =>
        ListAllAsync("list Pods in all namespaces", async (c, limit, t) =>
        {
            var l = await Client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1Namespace>> ListNamespacesAsync(CancellationToken ct) =>
        ListAllAsync("list Namespaces", async (c, limit, t) =>
        {
            var l = await Client.CoreV1.ListNamespaceAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1Node>> ListNodesAsync(CancellationToken ct) =>
        ListAllAsync("list Nodes", async (c, limit, t) =>
        {
            var l = await Client.CoreV1.ListNodeAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1ValidatingWebhookConfiguration>> ListValidatingWebhooksAsync(CancellationToken ct) =>
        ListAllAsync("list ValidatingWebhookConfigurations", async (c, limit, t) =>
        {
            var l = await Client.AdmissionregistrationV1.ListValidatingWebhookConfigurationAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1MutatingWebhookConfiguration>> ListMutatingWebhooksAsync(CancellationToken ct) =>
        ListAllAsync("list MutatingWebhookConfigurations", async (c, limit, t) =>
        {
            var l = await Client.AdmissionregistrationV1.ListMutatingWebhookConfigurationAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    public Task<IReadOnlyList<V1APIService>> ListApiServicesAsync(CancellationToken ct) =>
        ListAllAsync("list APIServices", async (c, limit, t) =>
        {
            var l = await Client.ApiregistrationV1.ListAPIServiceAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct);

    /// <summary>CustomResourceDefinitions; an API server that does not serve them (404) has none.</summary>
    public async Task<IReadOnlyList<V1CustomResourceDefinition>> ListCustomResourceDefinitionsAsync(CancellationToken ct)
    {
        try
        {
            return await ListAllAsync("list CustomResourceDefinitions", async (c, limit, t) =>
            {
                var l = await Client.ApiextensionsV1.ListCustomResourceDefinitionAsync(continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
                return (l.Items, l.Metadata?.ContinueProperty);
            }, ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return [];
        }
    }

    /// <summary>A ConfigMap, or null when it does not exist.</summary>
    public Task<V1ConfigMap?> GetConfigMapAsync(string ns, string name, CancellationToken ct) =>
        OrNullAsync($"read ConfigMap {ns}/{name}", t => Client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: t), ct);

    /// <summary>A Secret, or null when it does not exist.</summary>
    public Task<V1Secret?> GetSecretAsync(string ns, string name, CancellationToken ct) =>
        OrNullAsync($"read Secret {ns}/{name}", t => Client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: t), ct);

    public Task<V1ConfigMap> CreateConfigMapAsync(V1ConfigMap configMap, CancellationToken ct) =>
        CallAsync($"create ConfigMap {configMap.Namespace()}/{configMap.Name()}", t => Client.CoreV1.CreateNamespacedConfigMapAsync(configMap, configMap.Namespace(), cancellationToken: t), ct);

    /// <summary>A JSON merge patch (RFC 7386) of a ConfigMap, e.g. <c>{"data":{"ca.crt":"..."}}</c>.</summary>
    public Task<V1ConfigMap> PatchConfigMapAsync(string ns, string name, string mergePatchJson, CancellationToken ct) =>
        CallAsync($"patch ConfigMap {ns}/{name}", t => Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(mergePatchJson, V1Patch.PatchType.MergePatch), name, ns, cancellationToken: t), ct);

    public Task<V1Secret> PatchSecretAsync(string ns, string name, string mergePatchJson, CancellationToken ct) =>
        CallAsync($"patch Secret {ns}/{name}", t => Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(mergePatchJson, V1Patch.PatchType.MergePatch), name, ns, cancellationToken: t), ct);

    public Task<V1ValidatingWebhookConfiguration> PatchValidatingWebhookAsync(string name, string jsonPatch, CancellationToken ct) =>
        CallAsync($"patch ValidatingWebhookConfiguration {name}", t => Client.AdmissionregistrationV1.PatchValidatingWebhookConfigurationAsync(new V1Patch(jsonPatch, V1Patch.PatchType.JsonPatch), name, cancellationToken: t), ct);

    public Task<V1MutatingWebhookConfiguration> PatchMutatingWebhookAsync(string name, string jsonPatch, CancellationToken ct) =>
        CallAsync($"patch MutatingWebhookConfiguration {name}", t => Client.AdmissionregistrationV1.PatchMutatingWebhookConfigurationAsync(new V1Patch(jsonPatch, V1Patch.PatchType.JsonPatch), name, cancellationToken: t), ct);

    public Task<V1APIService> PatchApiServiceAsync(string name, string mergePatchJson, CancellationToken ct) =>
        CallAsync($"patch APIService {name}", t => Client.ApiregistrationV1.PatchAPIServiceAsync(new V1Patch(mergePatchJson, V1Patch.PatchType.MergePatch), name, cancellationToken: t), ct);

    /// <summary>Deletes a ConfigMap; false when it was already gone.</summary>
    public async Task<bool> DeleteConfigMapAsync(string ns, string name, CancellationToken ct) =>
        await OrNullAsync($"delete ConfigMap {ns}/{name}", async t => (object)await Client.CoreV1.DeleteNamespacedConfigMapAsync(name, ns, cancellationToken: t).ConfigureAwait(false), ct).ConfigureAwait(false) is not null;

    /// <summary>Deletes a Pod (its controller makes a new one); false when it was already gone.</summary>
    public async Task<bool> DeletePodAsync(string ns, string name, CancellationToken ct) =>
        await OrNullAsync($"delete Pod {ns}/{name}", async t => (object)await Client.CoreV1.DeleteNamespacedPodAsync(name, ns, cancellationToken: t).ConfigureAwait(false), ct).ConfigureAwait(false) is not null;

    /// <summary>Creates a Secret, or null when one of that name already exists (409 is an answer here, not retried).</summary>
    public Task<V1Secret?> TryCreateSecretAsync(V1Secret secret, CancellationToken ct) =>
        UnlessConflictAsync($"create Secret {secret.Namespace()}/{secret.Name()}", t => Client.CoreV1.CreateNamespacedSecretAsync(secret, secret.Namespace(), cancellationToken: t), ct);

    /// <summary>Replaces a ConfigMap (PUT; unconditional when its resourceVersion is empty), or null when it does not exist.</summary>
    public Task<V1ConfigMap?> ReplaceConfigMapAsync(V1ConfigMap configMap, CancellationToken ct) =>
        OrNullAsync($"replace ConfigMap {configMap.Namespace()}/{configMap.Name()}", t => Client.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, configMap.Name(), configMap.Namespace(), cancellationToken: t), ct);

    /// <summary>Replaces a Secret (PUT; unconditional when its resourceVersion is empty), or null when it does not exist.</summary>
    public Task<V1Secret?> ReplaceSecretAsync(V1Secret secret, CancellationToken ct) =>
        OrNullAsync($"replace Secret {secret.Namespace()}/{secret.Name()}", t => Client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Name(), secret.Namespace(), cancellationToken: t), ct);

    /// <summary>Creates a ConfigMap, or null when one of that name already exists (409 is an answer here, not retried).</summary>
    public Task<V1ConfigMap?> TryCreateConfigMapAsync(V1ConfigMap configMap, CancellationToken ct) =>
        UnlessConflictAsync($"create ConfigMap {configMap.Namespace()}/{configMap.Name()}", t => Client.CoreV1.CreateNamespacedConfigMapAsync(configMap, configMap.Namespace(), cancellationToken: t), ct);

    /// <summary>Deletes a Secret; false when it was already gone.</summary>
    public async Task<bool> DeleteSecretAsync(string ns, string name, CancellationToken ct) =>
        await OrNullAsync($"delete Secret {ns}/{name}", async t => (object)await Client.CoreV1.DeleteNamespacedSecretAsync(name, ns, cancellationToken: t).ConfigureAwait(false), ct).ConfigureAwait(false) is not null;

    /// <summary>A Lease, or null when it does not exist.</summary>
    public Task<V1Lease?> GetLeaseAsync(string ns, string name, CancellationToken ct) =>
        OrNullAsync($"read Lease {ns}/{name}", t => Client.CoordinationV1.ReadNamespacedLeaseAsync(name, ns, cancellationToken: t), ct);

    /// <summary>Creates a Lease, or null when another writer created it first (409: re-read it).</summary>
    public Task<V1Lease?> TryCreateLeaseAsync(V1Lease lease, CancellationToken ct) =>
        UnlessConflictAsync($"create Lease {lease.Namespace()}/{lease.Name()}", t => Client.CoordinationV1.CreateNamespacedLeaseAsync(lease, lease.Namespace(), cancellationToken: t), ct);

    /// <summary>
    /// Replaces a Lease under the resourceVersion it carries, or null when another writer changed (or deleted) it
    /// since (409 or 404: re-read it). This is the optimistic concurrency leader election relies on.
    /// </summary>
    public async Task<V1Lease?> TryReplaceLeaseAsync(V1Lease lease, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(lease.ResourceVersion()))
            throw new ArgumentException($"Lease {lease.Namespace()}/{lease.Name()} carries no resourceVersion; replace only a Lease as it was read.", nameof(lease));
        return await AnsweredNullAsync($"replace Lease {lease.Namespace()}/{lease.Name()}", ChangedOrGone,
            t => Client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, lease.Name(), lease.Namespace(), cancellationToken: t), ct).ConfigureAwait(false);
    }

    private static readonly HttpStatusCode[] ChangedOrGone = [HttpStatusCode.Conflict, HttpStatusCode.NotFound];

    /// <summary>Runs <paramref name="call"/> with retries, except that a 409 answer is returned as null at once (lost a race: re-read).</summary>
    private Task<T?> UnlessConflictAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct) where T : class =>
        AnsweredNullAsync(what, [HttpStatusCode.Conflict], call, ct);

    /// <summary>Runs <paramref name="call"/> with retries, except that the <paramref name="answers"/> are returned as null at once.</summary>
    private Task<T?> AnsweredNullAsync<T>(string what, HttpStatusCode[] answers, Func<CancellationToken, Task<T>> call, CancellationToken ct) where T : class =>
        CallAsync<T?>(what, async t =>
        {
            try
            {
                return await call(t).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (answers.Contains(e.Response.StatusCode))
            {
                return null;
            }
        }, ct);

    private async Task<T?> OrNullAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct) where T : class
    {
        try
        {
            return await CallAsync(what, call, ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    private static bool IsRetried(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict || (int)status >= 500;

    private static string Reason(HttpOperationException? e)
    {
        if (e is null) return "";
        var body = e.Response.Content;
        if (string.IsNullOrWhiteSpace(body)) return $"({e.Response.ReasonPhrase})";
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var m)) return $"({m.GetString()})";
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return $"({e.Response.ReasonPhrase})";
    }

    public void Dispose()
    {
        Client.Dispose();
        _slots.Dispose();
    }
}
