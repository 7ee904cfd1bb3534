using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// A label selector in the query-string syntax: comma-separated requirements "k=v", "k==v", "k!=v",
/// "k in (a,b)", "k notin (a,b)", "k" (exists) and "!k" (does not exist); all must hold.
/// </summary>
public sealed class LabelSelector
{
    private enum Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist }

    private readonly List<(string Key, Op Op, string[] Values)> _requirements = [];

    public static readonly LabelSelector Everything = new();

    public bool IsEmpty => _requirements.Count == 0;

    /// <summary>Parses the selector; throws a 400 <see cref="ApiStatusException"/> that quotes it when it is malformed.</summary>
    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
            return selector;
        foreach (var raw in SplitTopLevel(text))
        {
            var part = raw.Trim();
            if (part.Length == 0)
                continue;
            if (part.StartsWith('!'))
            {
                selector._requirements.Add((Key(part[1..], text), Op.DoesNotExist, []));
                continue;
            }
            var words = part.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 2 && (words[1].StartsWith("in", StringComparison.Ordinal) || words[1].StartsWith("notin", StringComparison.Ordinal)))
            {
                var notIn = words[1].StartsWith("notin", StringComparison.Ordinal);
                var list = words[1][(notIn ? 5 : 2)..].Trim();
                if (!list.StartsWith('(') || !list.EndsWith(')'))
                    throw Malformed(text);
                var values = list[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                selector._requirements.Add((Key(words[0], text), notIn ? Op.NotIn : Op.In, values));
                continue;
            }
            int at;
            if ((at = part.IndexOf("!=", StringComparison.Ordinal)) > 0)
                selector._requirements.Add((Key(part[..at], text), Op.NotEquals, [part[(at + 2)..].Trim()]));
            else if ((at = part.IndexOf("==", StringComparison.Ordinal)) > 0)
                selector._requirements.Add((Key(part[..at], text), Op.Equals, [part[(at + 2)..].Trim()]));
            else if ((at = part.IndexOf('=')) > 0)
                selector._requirements.Add((Key(part[..at], text), Op.Equals, [part[(at + 1)..].Trim()]));
            else
                selector._requirements.Add((Key(part, text), Op.Exists, []));
        }
        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = obj["metadata"]?["labels"] as JsonObject;
        foreach (var (key, op, values) in _requirements)
        {
            var has = labels is not null && labels.ContainsKey(key);
            var value = has ? KubeJson.Str(labels![key]) ?? "" : null;
            var ok = op switch
            {
                Op.Equals => has && value == values[0],
                Op.NotEquals => !has || value != values[0],
                Op.In => has && values.Contains(value),
                Op.NotIn => !has || !values.Contains(value),
                Op.Exists => has,
                _ => !has,
            };
            if (!ok)
                return false;
        }
        return true;
    }

    private static string Key(string key, string text)
    {
        key = key.Trim();
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '!' or '=' or ','))
            throw Malformed(text);
        return key;
    }

    private static ApiStatusException Malformed(string text) =>
        ApiStatusException.BadRequest($"unable to parse requirement: the label selector \"{text}\" is not valid");

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(')
                depth++;
            else if (text[i] == ')')
                depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }
}
