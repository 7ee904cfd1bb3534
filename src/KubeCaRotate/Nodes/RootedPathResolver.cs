namespace KubeCaRotate.Nodes;

/// <summary>
/// Maps node paths to paths on this machine under a root directory that stands for the node's "/", resolving
/// symbolic links itself, one segment at a time, so that neither ".." nor a link can lead outside the root.
/// Links are stored on disk with host paths (root + node path) so that other programs reading the lab's files
/// follow them to the same place; a link whose absolute target is not under the root points outside the node.
/// </summary>
internal sealed class RootedPathResolver
{
    private const int MaxLinkHops = 40;

    public RootedPathResolver(string nodeName, string root)
    {
        NodeName = nodeName;
        var full = Path.GetFullPath(root);
        Root = full.Length > 1 ? full.TrimEnd('/') : full;
    }

    public string NodeName { get; }

    /// <summary>The host directory standing for "/", without a trailing slash unless it is "/" itself.</summary>
    public string Root { get; }

    public bool IsHostRoot => Root == "/";

    /// <summary>Checks and normalises a node path given by a caller.</summary>
    public string NormalizeNodePath(string path)
    {
        if (string.IsNullOrEmpty(path) || !NodePath.IsAbsolute(path))
        {
            throw new NodeAccessException(NodeName, path ?? "",
                $"The path '{path}' for node {NodeName} is not absolute; give node paths from '/', for example /etc/kubernetes/pki/ca.crt.");
        }

        return NodePath.Normalize(path)
            ?? throw new NodeAccessException(NodeName, path,
                $"The path '{path}' for node {NodeName} climbs above the node's root with '..'; give a path inside the node.");
    }

    /// <summary>The host path for a node path that is already normalised, without resolving links.</summary>
    public string ToHostPath(string normalizedNodePath) =>
        IsHostRoot ? normalizedNodePath : normalizedNodePath == "/" ? Root : Root + normalizedNodePath;

    /// <summary>
    /// Translates a link target read from disk into the node's view: host paths under the root become node
    /// paths, relative targets stay as they are.
    /// </summary>
    public string ToNodeLinkTarget(string linkNodePath, string diskTarget)
    {
        if (!diskTarget.StartsWith('/'))
        {
            return diskTarget;
        }

        if (IsHostRoot)
        {
            return diskTarget;
        }

        if (diskTarget == Root)
        {
            return "/";
        }

        if (diskTarget.StartsWith(Root + "/", StringComparison.Ordinal))
        {
            return diskTarget[Root.Length..];
        }

        throw new NodeAccessException(NodeName, linkNodePath,
            $"The symbolic link {linkNodePath} on node {NodeName} points to {diskTarget}, outside the node's root {Root}; " +
            "remove or fix the link.");
    }

    /// <summary>The text to store on disk for a link target given as the node sees it.</summary>
    public string ToDiskLinkTarget(string linkNodePath, string nodeTarget)
    {
        if (string.IsNullOrEmpty(nodeTarget))
        {
            throw new NodeAccessException(NodeName, linkNodePath,
                $"The symbolic link {linkNodePath} on node {NodeName} needs a target.");
        }

        if (NodePath.IsAbsolute(nodeTarget))
        {
            var normalized = NodePath.Normalize(nodeTarget) ?? throw Escapes(linkNodePath, nodeTarget);
            return ToHostPath(normalized);
        }

        // A relative target is kept as written, but it must stay inside the node when read from the link's directory.
        if (NodePath.Normalize(NodePath.GetDirectory(linkNodePath) + "/" + nodeTarget) is null)
        {
            throw Escapes(linkNodePath, nodeTarget);
        }

        return nodeTarget;
    }

    /// <summary>
    /// Resolves a normalised node path to a host path under the root, following links in every segment and,
    /// when <paramref name="followFinal"/> is set, in the last one too. Missing segments are kept as they are.
    /// </summary>
    public string Resolve(string normalizedNodePath, bool followFinal)
    {
        var resolved = new List<string>();
        var pending = new LinkedList<string>(Segments(normalizedNodePath));
        var hops = 0;

        while (pending.First is { } first)
        {
            var segment = first.Value;
            pending.RemoveFirst();
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (resolved.Count == 0)
                {
                    throw Escapes(normalizedNodePath, normalizedNodePath);
                }

                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            var candidate = HostPathOf(resolved, segment);
            var isLast = pending.Count == 0;
            var linkTarget = isLast && !followFinal ? null : new FileInfo(candidate).LinkTarget;
            if (linkTarget is null)
            {
                resolved.Add(segment);
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                throw new NodeAccessException(NodeName, normalizedNodePath,
                    $"The path {normalizedNodePath} on node {NodeName} goes through more than {MaxLinkHops} symbolic links; check for a link loop.");
            }

            var linkNodePath = "/" + string.Join('/', resolved.Append(segment));
            var nodeTarget = ToNodeLinkTarget(linkNodePath, linkTarget);
            if (NodePath.IsAbsolute(nodeTarget))
            {
                resolved.Clear();
            }

            foreach (var part in Segments(nodeTarget).Reverse())
            {
                pending.AddFirst(part);
            }
        }

        return HostPathOf(resolved, null);
    }

    private string HostPathOf(List<string> resolved, string? extra)
    {
        var parts = extra is null ? resolved : resolved.Append(extra);
        var relative = string.Join('/', parts);
        if (relative.Length == 0)
        {
            return Root;
        }

        return IsHostRoot ? "/" + relative : Root + "/" + relative;
    }

    private static IEnumerable<string> Segments(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private NodeAccessException Escapes(string path, string target) =>
        new(NodeName, path,
            $"The path {path} on node {NodeName} leads outside the node's root {Root} (through '{target}'); " +
            "node paths and symbolic links must stay inside the node.");
}
