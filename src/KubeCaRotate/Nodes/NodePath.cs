namespace KubeCaRotate.Nodes;

/// <summary>
/// POSIX path arithmetic for node paths, independent of the machine the tool runs on.
/// </summary>
public static class NodePath
{
    public static bool IsAbsolute(string path) => path.StartsWith('/');

    /// <summary>Joins path parts with '/'; a part that is absolute starts over, as Path.Combine does.</summary>
    public static string Combine(params string[] parts)
    {
        var result = "";
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                continue;
            }

            if (IsAbsolute(part) || result.Length == 0)
            {
                result = part;
            }
            else
            {
                result = result.EndsWith('/') ? result + part : result + "/" + part;
            }
        }

        return result;
    }

    /// <summary>
    /// Normalises an absolute path lexically: collapses "//" and ".", applies "..". Returns null when ".."
    /// would climb above "/".
    /// </summary>
    public static string? Normalize(string absolutePath)
    {
        var stack = new List<string>();
        foreach (var segment in absolutePath.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (stack.Count == 0)
                {
                    return null;
                }

                stack.RemoveAt(stack.Count - 1);
                continue;
            }

            stack.Add(segment);
        }

        return "/" + string.Join('/', stack);
    }

    /// <summary>The directory part of a node path ("/" for a file in the root).</summary>
    public static string GetDirectory(string path)
    {
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        var index = trimmed.LastIndexOf('/');
        return index <= 0 ? "/" : trimmed[..index];
    }

    /// <summary>The last segment of a node path.</summary>
    public static string GetFileName(string path)
    {
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        var index = trimmed.LastIndexOf('/');
        return index < 0 ? trimmed : trimmed[(index + 1)..];
    }
}
