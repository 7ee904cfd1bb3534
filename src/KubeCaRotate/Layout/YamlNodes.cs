using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace KubeCaRotate.Layout;

/// <summary>Small reads and in-place edits on YamlDotNet's representation model.</summary>
internal static partial class YamlNodes
{
    public static YamlNode? Get(YamlMappingNode mapping, string key)
    {
        foreach (var pair in mapping.Children)
        {
            if (pair.Key is YamlScalarNode scalar && scalar.Value == key)
            {
                return pair.Value;
            }
        }

        return null;
    }

    public static YamlMappingNode? Mapping(YamlMappingNode mapping, string key) => Get(mapping, key) as YamlMappingNode;

    public static YamlSequenceNode? Sequence(YamlMappingNode mapping, string key) => Get(mapping, key) as YamlSequenceNode;

    /// <summary>The scalar's text, or null when absent, not a scalar, or a YAML null.</summary>
    public static string? Scalar(YamlMappingNode mapping, string key) =>
        Get(mapping, key) is YamlScalarNode scalar && !IsNull(scalar) ? scalar.Value : null;

    public static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>
    /// Sets a scalar, keeping its place (and quoting unless the new text needs quotes). An absent key is added
    /// in alphabetical place when the mapping is sorted, at the end otherwise. Returns whether anything changed.
    /// </summary>
    public static bool SetScalar(YamlMappingNode mapping, string key, string value, bool isString = true)
    {
        var existing = Get(mapping, key);
        if (existing is YamlScalarNode scalar && !IsNull(scalar) && scalar.Value == value)
        {
            return false;
        }

        if (existing is YamlScalarNode reused && !IsNull(reused))
        {
            reused.Value = value;
            if (isString && NeedsQuotes(value) && reused.Style is ScalarStyle.Plain or ScalarStyle.Any)
            {
                reused.Style = ScalarStyle.DoubleQuoted;
            }
            else if (!isString)
            {
                reused.Style = ScalarStyle.Plain;
            }

            return true;
        }

        Set(mapping, key, isString ? String(value) : Plain(value));
        return true;
    }

    /// <summary>Puts a value under a key, replacing in place or adding as <see cref="SetScalar"/> does.</summary>
    public static void Set(YamlMappingNode mapping, string key, YamlNode value)
    {
        var children = mapping.Children;
        for (var i = 0; i < children.Count; i++)
        {
            if (children[i].Key is YamlScalarNode scalar && scalar.Value == key)
            {
                children.RemoveAt(i);
                children.Insert(i, new YamlScalarNode(key), value);
                return;
            }
        }

        var keys = children.Select(pair => (pair.Key as YamlScalarNode)?.Value).ToList();
        var sorted = keys.All(k => k is not null) &&
                     keys.Zip(keys.Skip(1)).All(p => string.CompareOrdinal(p.First, p.Second) <= 0);
        var index = children.Count;
        if (sorted)
        {
            index = keys.FindIndex(k => string.CompareOrdinal(k, key) > 0);
            if (index < 0)
            {
                index = children.Count;
            }
        }

        children.Insert(index, new YamlScalarNode(key), value);
    }

    public static bool Remove(YamlMappingNode mapping, string key)
    {
        var children = mapping.Children;
        for (var i = 0; i < children.Count; i++)
        {
            if (children[i].Key is YamlScalarNode scalar && scalar.Value == key)
            {
                children.RemoveAt(i);
                return true;
            }
        }

        return false;
    }

    /// <summary>The mapping under a key, created (in block style) when absent or null.</summary>
    public static YamlMappingNode EnsureMapping(YamlMappingNode mapping, string key)
    {
        if (Get(mapping, key) is YamlMappingNode existing)
        {
            if (existing.Style == MappingStyle.Flow)
            {
                existing.Style = MappingStyle.Any;
            }

            return existing;
        }

        var created = new YamlMappingNode();
        Set(mapping, key, created);
        return created;
    }

    /// <summary>A string scalar, double-quoted when YAML would otherwise read it as a number, bool or null.</summary>
    public static YamlScalarNode String(string value) =>
        new(value) { Style = NeedsQuotes(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any };

    /// <summary>A scalar written as is: numbers, booleans, null.</summary>
    public static YamlScalarNode Plain(string value) => new(value) { Style = ScalarStyle.Plain };

    public static YamlMappingNode Map(params (string Key, YamlNode Value)[] entries)
    {
        var mapping = new YamlMappingNode();
        foreach (var (key, value) in entries)
        {
            mapping.Add(new YamlScalarNode(key), value);
        }

        return mapping;
    }

    public static YamlMappingNode EmptyMap() => new() { Style = MappingStyle.Flow };

    public static YamlSequenceNode Seq(IEnumerable<YamlNode> items) => new(items);

    public static YamlSequenceNode Strings(IEnumerable<string> items) => new(items.Select(String));

    /// <summary>
    /// Whether a plain scalar with this text would be read as something other than a string by Go's YAML
    /// (YAML 1.1 booleans such as "yes" and "on" included). Text that cannot be plain at all (": ", leading
    /// "[") is quoted by the emitter itself.
    /// </summary>
    public static bool NeedsQuotes(string value) =>
        value.Length == 0 || NonString().IsMatch(value);

    [GeneratedRegex(
        @"^(~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF" +
        @"|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)" +
        @"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$")]
    private static partial Regex NonString();
}
