using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Store;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Serves one request: faults, authentication, then the non-resource paths (health, version, discovery,
/// OpenAPI) or the resource verbs (get, list, watch, create, update, patch, delete, deletecollection).
/// </summary>
internal sealed class RestHandler(
    ApiServerOptions options,
    ObjectRegistry registry,
    RequestAuthenticator authenticator,
    FaultInjector faults,
    TableConverter tables,
    AggregatorProxy aggregator,
    TokenRequestEndpoint tokenRequests,
    Func<string> serverAddress,
    CancellationToken stopping,
    CancellationToken shutdownInitiated)
{
    private static readonly HashSet<string> PublicPaths = ["livez", "readyz", "healthz", "version"];
    private const int MaxBodyBytes = 3 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            if (await faults.InjectAsync(context))
                return;
            var segments = context.Request.Path.Value!.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            var isPublic = segments.Length > 0 && PublicPaths.Contains(segments[0]) && options.AnonymousAuth;
            var user = authenticator.Authenticate(context);
            if (user is null && !isPublic)
                throw ApiStatusException.Unauthorized();
            if (user is not null)
                context.Items[typeof(AuthenticatedUser)] = user;
            await RouteAsync(context, segments);
        }
        catch (ApiStatusException status)
        {
            if (!context.Response.HasStarted)
                await RestResponses.WriteStatusAsync(context, status);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
    }

    private async Task RouteAsync(HttpContext context, string[] s)
    {
        switch (s)
        {
            case []:
                await RestResponses.WriteJsonAsync(context, 200, new JsonObject
                {
                    ["paths"] = new JsonArray("/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"),
                });
                return;
            case ["version"]:
                await RestResponses.WriteJsonAsync(context, 200, VersionDocument());
                return;
            case ["livez", ..]:
                await RestResponses.WriteTextAsync(context, 200, "ok");
                return;
            case ["readyz", ..] or ["healthz", ..]:
                await HealthAsync(context);
                return;
            case ["openapi", "v3"]:
                await RestResponses.WriteJsonAsync(context, 200, OpenApiDocuments.Index());
                return;
            case ["openapi", "v3", .. var gvPath]:
                await RestResponses.WriteJsonAsync(context, 200, OpenApiDocuments.For(string.Join('/', gvPath)) ?? throw ApiStatusException.NotFoundPath());
                return;
            case ["api"]:
                await RestResponses.WriteJsonAsync(context, 200, Discovery.ApiVersions(serverAddress()));
                return;
            case ["api", var version]:
                await RestResponses.WriteJsonAsync(context, 200, Discovery.ResourceList("", version) ?? throw ApiStatusException.NotFoundPath());
                return;
            case ["api", var version, .. var rest]:
                await ResourceAsync(context, "", version, rest);
                return;
            case ["apis"]:
                await RestResponses.WriteJsonAsync(context, 200, Discovery.GroupList());
                return;
            case ["apis", var group, ..] when AggregatorProxy.IsAggregated(group):
                await aggregator.ProxyAsync(context, group, s.ElementAtOrDefault(2), (AuthenticatedUser)context.Items[typeof(AuthenticatedUser)]!);
                return;
            case ["apis", var group]:
                await RestResponses.WriteJsonAsync(context, 200, Discovery.GroupDocument(group) ?? throw ApiStatusException.NotFoundPath());
                return;
            case ["apis", var group, var version]:
                await RestResponses.WriteJsonAsync(context, 200, Discovery.ResourceList(group, version) ?? throw ApiStatusException.NotFoundPath());
                return;
            case ["apis", var group, var version, .. var rest]:
                await ResourceAsync(context, group, version, rest);
                return;
            default:
                throw ApiStatusException.NotFoundPath();
        }
    }

    private JsonObject VersionDocument()
    {
        var v = options.KubernetesVersion.TrimStart('v').Split('.', '-', '+');
        return new JsonObject
        {
            ["major"] = v.ElementAtOrDefault(0) ?? "1",
            ["minor"] = v.ElementAtOrDefault(1) ?? "0",
            ["gitVersion"] = options.KubernetesVersion,
            ["gitCommit"] = "0000000000000000000000000000000000000000",
            ["gitTreeState"] = "clean",
            ["buildDate"] = "2026-01-01T00:00:00Z",
            ["goVersion"] = "go1.23.8",
            ["compiler"] = "gc",
            ["platform"] = "linux/amd64",
        };
    }

    private async Task HealthAsync(HttpContext context)
    {
        // From SIGTERM on, /readyz fails (kube-apiserver's "shutdown" check) while everything else is still served
        // for --shutdown-delay-duration; /healthz and /livez stay ok.
        if (shutdownInitiated.IsCancellationRequested && context.Request.Path.StartsWithSegments("/readyz"))
        {
            await RestResponses.WriteTextAsync(context, 500, context.Request.Query.ContainsKey("verbose")
                ? "[+]ping ok\n[+]log ok\n[+]etcd ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n"
                : "[-]shutdown failed: reason withheld\nreadyz check failed\n");
            return;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await registry.Store.GetAsync(ApiResourceCatalog.Namespaces.Key(null, "default"), timeout.Token);
        }
        catch (Exception e) when (e is StoreUnavailableException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            var failed = context.Request.Query.ContainsKey("verbose")
                ? "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n"
                : "[-]etcd failed: reason withheld\nreadyz check failed\n";
            await RestResponses.WriteTextAsync(context, 500, failed);
            return;
        }
        await RestResponses.WriteTextAsync(context, 200,
            context.Request.Query.ContainsKey("verbose") ? "[+]ping ok\n[+]log ok\n[+]etcd ok\nreadyz check passed\n" : "ok");
    }

    private async Task ResourceAsync(HttpContext context, string group, string version, string[] rest)
    {
        string? ns = null;
        ApiResource? resource;
        string? name = null, sub = null;
        if (rest is ["namespaces", var nsName, var res, ..] && ApiResourceCatalog.Find(group, version, res) is { Namespaced: true } namespaced)
        {
            ns = nsName;
            resource = namespaced;
            name = rest.ElementAtOrDefault(3);
            sub = rest.ElementAtOrDefault(4);
            if (rest.Length > 5)
                throw ApiStatusException.NotFoundPath();
        }
        else
        {
            resource = ApiResourceCatalog.Find(group, version, rest[0]);
            name = rest.ElementAtOrDefault(1);
            sub = rest.ElementAtOrDefault(2);
            if (rest.Length > 3)
                throw ApiStatusException.NotFoundPath();
        }
        if (resource is null || (sub is not null && !resource.Subresources.Contains(sub)) || (resource.Namespaced && ns is null && name is not null))
            throw ApiStatusException.NotFoundPath();
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var dryRun = query["dryRun"].Count > 0;
        var method = context.Request.Method;

        if (name is null)
        {
            switch (method)
            {
                case "GET" when IsTrue(query["watch"]):
                    await WatchAsync(context, resource, ns, ct);
                    return;
                case "GET":
                    await ListAsync(context, resource, ns, ct);
                    return;
                case "POST" when !resource.Namespaced || ns is not null:
                    var body = await ReadBodyAsync(context, resource.Kind);
                    if (resource.Name == "certificatesigningrequests" && context.Items[typeof(AuthenticatedUser)] is AuthenticatedUser requester)
                        StampRequester(body, requester);
                    var created = await registry.CreateAsync(resource, ns, body, dryRun, ct);
                    await WriteObjectAsync(context, 201, resource, created);
                    return;
                case "DELETE":
                    await DeleteCollectionAsync(context, resource, ns, dryRun, ct);
                    return;
                default:
                    throw ApiStatusException.MethodNotAllowed(method);
            }
        }

        if (sub == "token")
        {
            if (method != "POST")
                throw ApiStatusException.MethodNotAllowed(method);
            var request = await ReadBodyAsync(context, "TokenRequest", allowEmpty: true);
            await tokenRequests.CreateAsync(context, request, ns!, name, context.Items[typeof(AuthenticatedUser)] as AuthenticatedUser, ct);
            return;
        }

        switch (method)
        {
            case "GET":
                var (obj, _) = await registry.GetAsync(resource, ns, name, ct);
                await WriteObjectAsync(context, 200, resource, obj);
                return;
            case "PUT":
            {
                var body = await ReadBodyAsync(context, resource.Kind);
                var (current, stored) = await registry.GetAsync(resource, ns, name, ct);
                var updated = await registry.UpdateAsync(resource, ns, name, sub ?? "", body, current, stored, dryRun, ct);
                await WriteObjectAsync(context, 200, resource, updated);
                return;
            }
            case "PATCH":
                await PatchAsync(context, resource, ns, name, sub ?? "", dryRun, ct);
                return;
            case "DELETE" when sub is null:
            {
                var deleted = await registry.DeleteAsync(resource, ns, name, await ReadDeleteOptionsAsync(context), dryRun, ct);
                await WriteObjectAsync(context, 200, resource, deleted);
                return;
            }
            default:
                throw ApiStatusException.MethodNotAllowed(method);
        }
    }

    /// <summary>As the CSR strategy does on create: spec.username and spec.groups are who made the request, whatever the body said.</summary>
    private static void StampRequester(JsonObject csr, AuthenticatedUser user)
    {
        var spec = csr["spec"] as JsonObject ?? new JsonObject();
        spec["username"] = user.Name;
        spec["groups"] = new JsonArray([.. user.Groups.Select(g => (JsonNode?)JsonValue.Create(g))]);
        csr["spec"] = spec;
    }

    private async Task PatchAsync(HttpContext context, ApiResource resource, string? ns, string name, string sub, bool dryRun, CancellationToken ct)
    {
        var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (contentType is not ("application/merge-patch+json" or "application/json-patch+json" or "application/strategic-merge-patch+json"))
            throw ApiStatusException.UnsupportedMediaType(contentType);
        var bytes = await ReadBytesAsync(context);
        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(bytes);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ApiStatusException.BadRequest($"The patch is not valid JSON: {e.Message}");
        }
        for (var attempt = 0; ; attempt++)
        {
            var (current, stored) = await registry.GetAsync(resource, ns, name, ct);
            JsonObject patched = contentType switch
            {
                "application/json-patch+json" => JsonPatch.Apply(current, patch as JsonArray ?? throw ApiStatusException.BadRequest("A JSON patch must be a JSON array of operations.")) as JsonObject
                    ?? throw ApiStatusException.BadRequest("The JSON patch did not produce an object."),
                "application/merge-patch+json" => JsonMergePatch.Apply(current, patch) as JsonObject
                    ?? throw ApiStatusException.BadRequest("The merge patch did not produce an object."),
                _ => StrategicMergePatch.Apply(current, patch as JsonObject ?? throw ApiStatusException.BadRequest("A strategic merge patch must be a JSON object.")),
            };
            // A resourceVersion in the patch is a precondition; without one, the patch is retried on conflicts with the
            // object read again, as kube-apiserver's GuaranteedUpdate does: concurrent patches never answer 409.
            var pinned = KubeJson.Str(patched["metadata"]?["resourceVersion"]) != KubeJson.Str(current["metadata"]?["resourceVersion"]);
            if (!pinned)
                KubeJson.Metadata(patched)["resourceVersion"] = stored.ModRevision.ToString(CultureInfo.InvariantCulture);
            try
            {
                var updated = await registry.UpdateAsync(resource, ns, name, sub, patched, current, stored, dryRun, ct);
                await WriteObjectAsync(context, 200, resource, updated);
                return;
            }
            catch (ApiStatusException e) when (e.Reason == "Conflict" && !pinned && attempt < 100 && !ct.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>The most objects one read of a paged list asks etcd for, when selectors drop objects (kube-apiserver's maxLimit).</summary>
    private const long MaxChunk = 10_000;

    /// <summary>
    /// A list. Without <c>limit</c>, every object. With it, as kube-apiserver's etcd3 store pages: etcd ranges of
    /// <c>limit</c> keys from the continue key (the prefix for the first page), read at the first page's revision, only
    /// those objects decoded; when selectors drop objects the next range doubles (up to 10,000) until the page holds
    /// <c>limit</c> objects or the keys end. <c>continue</c> is set when keys follow the last one examined, and
    /// <c>remainingItemCount</c> (only without selectors) is the number of keys after the page.
    /// </summary>
    private async Task ListAsync(HttpContext context, ApiResource resource, string? ns, CancellationToken ct)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], resource);
        var limit = long.TryParse(query["limit"], out var l) && l > 0 ? l : 0;
        var token = ContinueToken.Parse(query["continue"]);
        var prefix = resource.CollectionPrefix(ns);
        if (token is not null && !token.StartKey.StartsWith(prefix, StringComparison.Ordinal))
            throw ApiStatusException.BadRequest("continue key is not valid: the token was issued for another list");
        var selected = new List<JsonObject>();
        long listRevision;
        string? next = null;
        long? remaining = null;
        if (limit == 0 && token is null)
        {
            var (items, revision) = await registry.ListAsync(resource, ns, ct);
            selected.AddRange(items.Select(i => i.Object).Where(o => labels.Matches(o) && fields.Matches(o)));
            listRevision = revision;
        }
        else
        {
            var pageSize = limit == 0 ? long.MaxValue : limit;
            var start = token?.StartKey;
            var atRevision = token?.Revision ?? 0;
            var chunk = limit == 0 ? 0 : limit;
            string? lastKey = null;
            var hasMore = false;
            StoredPage page;
            while (true)
            {
                (var items, page) = await registry.ListPageAsync(resource, ns, start, chunk, atRevision, ct);
                atRevision = page.Revision;
                hasMore = page.More;
                foreach (var (obj, key) in items)
                {
                    if (selected.Count >= pageSize)
                    {
                        hasMore = true;
                        break;
                    }
                    lastKey = key;
                    if (labels.Matches(obj) && fields.Matches(obj)) selected.Add(obj);
                }
                if (!hasMore || selected.Count >= pageSize || lastKey is null) break;
                chunk = Math.Min(chunk * 2, MaxChunk);
                start = lastKey + "\0";
            }
            listRevision = atRevision;
            if (hasMore && lastKey is not null)
            {
                next = new ContinueToken(listRevision, lastKey + "\0").Encode();
                if (labels.IsEmpty && string.IsNullOrEmpty(query["fieldSelector"])) remaining = page.Count - limit;
            }
        }
        var metadata = new JsonObject { ["resourceVersion"] = listRevision.ToString(CultureInfo.InvariantCulture) };
        if (next is not null)
        {
            metadata["continue"] = next;
            if (remaining is { } r) metadata["remainingItemCount"] = r;
        }
        if (TableConverter.Wanted(context.Request.Headers.Accept.ToString()))
        {
            await RestResponses.WriteJsonAsync(context, 200, tables.Convert(resource, selected, metadata, query["includeObject"]));
            return;
        }
        await RestResponses.WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = resource.Kind + "List",
            ["apiVersion"] = resource.GroupVersion,
            ["metadata"] = metadata,
            ["items"] = new JsonArray([.. selected]),
        });
    }

    /// <summary>The request's DeleteOptions: its body when it has one, else its query (as kube-apiserver reads them).</summary>
    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context)
    {
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await ReadBodyAsync(context, "DeleteOptions", allowEmpty: true);
            if (body.Count > 0)
                return DeleteOptions.FromBody(body);
        }
        return DeleteOptions.FromQuery(context.Request.Query["gracePeriodSeconds"]);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ApiResource resource, string? ns, bool dryRun, CancellationToken ct)
    {
        var options = await ReadDeleteOptionsAsync(context);
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"], resource);
        var (items, revision) = await registry.ListAsync(resource, ns, ct);
        var deleted = new JsonArray();
        foreach (var (obj, _) in items.Where(i => labels.Matches(i.Object) && fields.Matches(i.Object)))
        {
            try
            {
                deleted.Add(await registry.DeleteAsync(resource, KubeJson.Namespace(obj), KubeJson.Name(obj), options with { PreconditionResourceVersion = null }, dryRun, ct));
            }
            catch (ApiStatusException e) when (e.Code == 404)
            {
            }
        }
        await RestResponses.WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = resource.Kind + "List",
            ["apiVersion"] = resource.GroupVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) },
            ["items"] = deleted,
        });
    }

    private async Task WatchAsync(HttpContext context, ApiResource resource, string? ns, CancellationToken requestAborted)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], resource);
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, stopping);
        if (int.TryParse(query["timeoutSeconds"], out var timeoutSeconds) && timeoutSeconds > 0)
            lifetime.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        var ct = lifetime.Token;

        var initial = new List<JsonObject>();
        long from;
        var rv = query["resourceVersion"].ToString();
        if (string.IsNullOrEmpty(rv) || rv == "0")
        {
            var (items, revision) = await registry.ListAsync(resource, ns, ct);
            initial.AddRange(items.Select(i => i.Object).Where(o => labels.Matches(o) && fields.Matches(o)));
            from = revision;
        }
        else if (!long.TryParse(rv, NumberStyles.None, CultureInfo.InvariantCulture, out from))
            throw ApiStatusException.BadRequest($"the resourceVersion \"{rv}\" is not a number");

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(ct);
        foreach (var obj in initial)
            await WriteEventAsync(context, "ADDED", obj, ct);
        await context.Response.Body.FlushAsync(ct);

        var last = from;
        try
        {
            await using var events = registry.Store.WatchAsync(resource.CollectionPrefix(ns), from, ct).GetAsyncEnumerator(ct);
            var pending = events.MoveNextAsync().AsTask();
            while (true)
            {
                var bookmarkDue = Task.Delay(TimeSpan.FromSeconds(15), ct);
                if (await Task.WhenAny(pending, bookmarkDue) != pending)
                {
                    ct.ThrowIfCancellationRequested();
                    if (bookmarks)
                        await WriteEventAsync(context, "BOOKMARK", new JsonObject
                        {
                            ["kind"] = resource.Kind,
                            ["apiVersion"] = resource.GroupVersion,
                            ["metadata"] = new JsonObject { ["resourceVersion"] = last.ToString(CultureInfo.InvariantCulture) },
                        }, ct);
                    continue;
                }
                if (!await pending)
                    return;
                var e = events.Current;
                last = e.Object.ModRevision;
                pending = events.MoveNextAsync().AsTask();
                if (e.Type == StoreEventType.Delete && e.Object.Value.Length == 0)
                    continue;
                var obj = ObjectRegistry.Decode(e.Object);
                if (!labels.Matches(obj) || !fields.Matches(obj))
                    continue;
                var type = e.Type == StoreEventType.Delete ? "DELETED" : e.Created ? "ADDED" : "MODIFIED";
                await WriteEventAsync(context, type, obj, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds reached or the client left: the stream ends
        }
        catch (StoreUnavailableException e)
        {
            var status = new ApiStatusException(500, "InternalError", $"the storage backend is unavailable: {e.Message}").ToStatus();
            await WriteEventAsync(context, "ERROR", status, requestAborted);
        }
    }

    private static async Task WriteEventAsync(HttpContext context, string type, JsonObject obj, CancellationToken ct)
    {
        var line = KubeJson.Bytes(new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() });
        await context.Response.Body.WriteAsync(line, ct);
        await context.Response.Body.WriteAsync("\n"u8.ToArray(), ct);
        await context.Response.Body.FlushAsync(ct);
    }

    private async Task WriteObjectAsync(HttpContext context, int code, ApiResource resource, JsonObject obj)
    {
        if (TableConverter.Wanted(context.Request.Headers.Accept.ToString()))
        {
            var metadata = new JsonObject { ["resourceVersion"] = obj["metadata"]?["resourceVersion"]?.DeepClone() };
            await RestResponses.WriteJsonAsync(context, code, tables.Convert(resource, [obj], metadata, context.Request.Query["includeObject"]));
            return;
        }
        await RestResponses.WriteJsonAsync(context, code, obj);
    }

    private static async Task<byte[]> ReadBytesAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
                throw new ApiStatusException(413, "RequestEntityTooLarge", "the request body is larger than 3 MiB");
        }
        return buffer.ToArray();
    }

    private static async Task<JsonObject> ReadBodyAsync(HttpContext context, string what, bool allowEmpty = false)
    {
        var contentType = (context.Request.ContentType ?? "application/json").Split(';')[0].Trim();
        if (contentType == ProtobufObjectDecoder.MediaType)
            return ProtobufObjectDecoder.Decode(await ReadBytesAsync(context));
        if (contentType is not ("application/json" or ""))
            throw ApiStatusException.UnsupportedMediaType(contentType);
        var bytes = await ReadBytesAsync(context);
        if (bytes.Length == 0 && allowEmpty)
            return new JsonObject();
        return KubeJson.ParseObject(bytes, $"{what} in the request body");
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count > 0 && (value[0] is "true" or "1" or "");
}
