using System.Security.Cryptography;

namespace KubeCaRotate.Pki;

/// <summary>One "-----BEGIN X-----" block of a PEM text.</summary>
public sealed record PemBlock(string Label, byte[] Data)
{
    /// <summary>
    /// Every PEM block in <paramref name="text"/>, in order. Text between blocks is ignored (as Go's pem.Decode does);
    /// a block that is begun but not properly ended or whose base64 is broken is an error naming <paramref name="source"/>.
    /// </summary>
    public static IReadOnlyList<PemBlock> ReadAll(string text, string source)
    {
        var blocks = new List<PemBlock>();
        var rest = text.AsSpan();
        var offset = 0;
        while (true)
        {
            var begin = text.IndexOf("-----BEGIN ", offset, StringComparison.Ordinal);
            if (begin < 0) break;
            if (!PemEncoding.TryFind(rest[begin..], out var fields) || fields.Location.Start.Value != 0)
            {
                var labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
                var label = labelEnd > 0 ? text[(begin + 11)..labelEnd] : "?";
                throw new PkiException($"{source} has a PEM block '{label}' that is truncated or damaged; restore the file from a backup or re-create it.");
            }
            var block = rest[begin..];
            var label2 = block[fields.Label].ToString();
            var data = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(block[fields.Base64Data], data, out var written))
                throw new PkiException($"{source} has a PEM block '{label2}' whose base64 content is damaged; restore the file from a backup or re-create it.");
            blocks.Add(new PemBlock(label2, data[..written]));
            offset = begin + fields.Location.End.Value;
        }
        return blocks;
    }

    public string Encode() => PemEncoding.WriteString(Label, Data) + "\n";
}
