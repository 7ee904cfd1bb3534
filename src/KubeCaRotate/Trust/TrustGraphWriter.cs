using System.Net;
using System.Text;

namespace KubeCaRotate.Trust;

/// <summary>
/// Pictures of the trust graph: Graphviz dot, Mermaid, or a self-contained HTML page (the Mermaid picture and the
/// edge table). Edges are coloured by the CA of the certificate the server presents; broken edges are red and bold,
/// edges at risk orange and dashed.
/// </summary>
public static class TrustGraphWriter
{
    private static readonly string[] Palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    public static string ToDot(TrustReport report)
    {
        var colours = CaColours(report);
        var sb = new StringBuilder("digraph trust {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
        foreach (var n in Nodes(report)) sb.Append($"  \"{n}\";\n");
        foreach (var e in report.Edges)
        {
            var colour = e.State switch { EdgeState.Broken => "#d62728", EdgeState.AtRisk => "#ff7f0e", _ => Colour(colours, e) };
            var style = e.State switch { EdgeState.Broken => "bold", EdgeState.AtRisk => "dashed", _ => "solid" };
            sb.Append($"  \"{e.Client}\" -> \"{e.Server}\" [color=\"{colour}\", style={style}, tooltip=\"{Escape(Tooltip(e))}\"];\n");
        }
        sb.Append("  subgraph cluster_legend { label=\"CA of the server certificate\";\n");
        foreach (var (ca, colour) in colours) sb.Append($"    \"{Escape(ca)}\" [shape=note, color=\"{colour}\", fontcolor=\"{colour}\"];\n");
        sb.Append("  }\n}\n");
        return sb.ToString();
    }

    public static string ToMermaid(TrustReport report)
    {
        var colours = CaColours(report);
        var ids = Nodes(report).Select((n, i) => (n, i)).ToDictionary(x => x.n, x => $"n{x.i}");
        var sb = new StringBuilder("flowchart LR\n");
        foreach (var (name, id) in ids) sb.Append($"  {id}[\"{name.Replace("\"", "'")}\"]\n");
        var index = 0;
        var styles = new StringBuilder();
        foreach (var e in report.Edges)
        {
            var label = e.State == EdgeState.Healthy ? e.ServerEnd.PresentsCa ?? "" : e.State.ToString();
            sb.Append($"  {ids[e.Client]} -->|\"{label.Replace("\"", "'")}\"| {ids[e.Server]}\n");
            var colour = e.State switch { EdgeState.Broken => "#d62728", EdgeState.AtRisk => "#ff7f0e", _ => Colour(colours, e) };
            var width = e.State == EdgeState.Broken ? 3 : 1;
            styles.Append($"  linkStyle {index++} stroke:{colour},stroke-width:{width}px{(e.State == EdgeState.AtRisk ? ",stroke-dasharray:4" : "")}\n");
        }
        return sb.Append(styles).ToString();
    }

    public static string ToHtml(TrustReport report)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kube-ca-rotate trust graph</title>\n");
        sb.Append("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}.Broken{background:#fdd}.AtRisk{background:#fed}</style>\n");
        sb.Append("<script type=\"module\">import mermaid from 'https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs'; mermaid.initialize({startOnLoad:true,maxEdges:100000});</script>\n");
        sb.Append($"</head><body><h1>Trust graph at {WebUtility.HtmlEncode(Describe.Time(report.At))}: {report.State}</h1>\n");
        sb.Append("<pre class=\"mermaid\">\n").Append(WebUtility.HtmlEncode(ToMermaid(report))).Append("</pre>\n");
        sb.Append("<table><tr><th>Edge</th><th>State</th><th>Server presents (CA)</th><th>Client trusts</th><th>Why</th></tr>\n");
        foreach (var e in report.Edges)
        {
            sb.Append($"<tr class=\"{e.State}\"><td>{WebUtility.HtmlEncode(e.Id)}</td><td>{e.State}</td><td>{WebUtility.HtmlEncode(e.ServerEnd.PresentsCa ?? "")}</td>");
            sb.Append($"<td>{WebUtility.HtmlEncode(string.Join(", ", e.ClientEnd.Trusts))}</td><td>{WebUtility.HtmlEncode(string.Join(" ", e.Reasons))}</td></tr>\n");
        }
        sb.Append("</table>\n</body></html>\n");
        return sb.ToString();
    }

    private static IEnumerable<string> Nodes(TrustReport report) =>
        report.Edges.SelectMany(e => new[] { e.Client, e.Server }).Distinct().Order(StringComparer.Ordinal);

    private static Dictionary<string, string> CaColours(TrustReport report) =>
        report.Edges.Select(e => e.ServerEnd.PresentsCa ?? e.ClientEnd.PresentsCa).Where(c => c is not null).Distinct().Order(StringComparer.Ordinal)
            .Select((c, i) => (c!, Palette[i % Palette.Length])).ToDictionary(x => x.Item1, x => x.Item2);

    private static string Colour(Dictionary<string, string> colours, TrustEdge e) =>
        (e.ServerEnd.PresentsCa ?? e.ClientEnd.PresentsCa) is { } ca && colours.TryGetValue(ca, out var c) ? c : "#555555";

    private static string Tooltip(TrustEdge e) => e.Reasons.Count == 0 ? $"{e.Id}: {e.State}" : $"{e.Id}: {string.Join(" ", e.Reasons)}";

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
