using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KubeCaRotate.Layout;

/// <summary>
/// A parsed YAML document kept whole, so that editing a few fields loses nothing else. Until something
/// changes, <see cref="ToYaml"/> returns the original text byte for byte; after a change the document is
/// written again (comments are not kept).
/// </summary>
internal sealed class YamlDocument
{
    private readonly YamlStream _stream;
    private readonly string _originalText;

    private YamlDocument(YamlStream stream, YamlMappingNode root, string originalText, string description)
    {
        _stream = stream;
        _originalText = originalText;
        Root = root;
        Description = description;
    }

    public YamlMappingNode Root { get; }

    /// <summary>How errors name this document: "the kubeconfig admin.conf", "the manifest etcd.yaml".</summary>
    public string Description { get; }

    public bool IsChanged { get; private set; }

    public void MarkChanged() => IsChanged = true;

    public static YamlDocument Parse(string text, string? sourceName, string kindOfDocument)
    {
        ArgumentNullException.ThrowIfNull(text);
        var description = sourceName is null ? $"the {kindOfDocument}" : $"the {kindOfDocument} {sourceName}";
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new LayoutFormatException(
                $"{Capitalize(description)} is not valid YAML (line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}); " +
                $"fix the file or restore it from a backup.", sourceName, ex);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new LayoutFormatException(
                $"{Capitalize(description)} is not a {kindOfDocument}: it should hold one YAML mapping" +
                (stream.Documents.Count == 0 ? " but is empty." : "."), sourceName);
        }

        return new YamlDocument(stream, root, text, description);
    }

    public static YamlDocument Parse(byte[] content, string? sourceName, string kindOfDocument) =>
        Parse(Decode(content), sourceName, kindOfDocument);

    /// <summary>The document as text: the original when nothing changed, otherwise freshly written.</summary>
    public string ToYaml() => IsChanged ? Write(Root) : _originalText;

    /// <summary>Writes a mapping as a YAML document the way Go's YAML libraries lay it out.</summary>
    public static string Write(YamlMappingNode root)
    {
        var stream = new YamlStream(new YamlDotNet.RepresentationModel.YamlDocument(root));
        var writer = new StringWriter { NewLine = "\n" };
        var emitter = new Emitter(writer, new EmitterSettings().WithBestWidth(int.MaxValue).WithNewLine("\n"));
        stream.Save(emitter, assignAnchors: false);
        var text = writer.ToString();

        // YamlDotNet closes every document with "..."; kubeadm and kubectl do not.
        const string end = "...\n";
        return text.EndsWith(end, StringComparison.Ordinal) ? text[..^end.Length] : text;
    }

    public static byte[] Encode(string text) => new UTF8Encoding(false).GetBytes(text);

    private static string Decode(byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var text = new UTF8Encoding(false).GetString(content);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
