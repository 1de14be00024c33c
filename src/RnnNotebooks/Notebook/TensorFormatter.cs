using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Notebook;

/// <summary>
/// How a tensor looks as a cell's value: shape, dtype and device first, then the numbers as a table when
/// there are few enough to read, or summary statistics when there are not.
/// </summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class TensorFormatter
{
    /// <summary>Tensors with at most this many elements (and at most 2 dimensions) are shown in full.</summary>
    public const int MaxShownElements = 400;

    /// <summary>Registers the HTML and plain-text formatters with .NET Interactive.</summary>
    public static void Register()
    {
        Formatter.Register<Tensor>((t, writer) => writer.Write(ToHtml(t)), HtmlFormatter.MimeType);
        Formatter.Register<Tensor>((t, writer) => writer.Write(ToText(t)), PlainTextFormatter.MimeType);
    }

    /// <summary>A header such as <c>Tensor [2, 3] float32 cpu</c>.</summary>
    public static string Header(Tensor t) =>
        $"Tensor [{string.Join(", ", t.shape)}] {t.dtype.ToString().ToLowerInvariant()} {t.device}" +
        (t.requires_grad ? " requires_grad" : "");

    /// <summary>Plain text: the header, then the values (small tensors) or statistics (large ones).</summary>
    public static string ToText(Tensor t)
    {
        var sb = new StringBuilder(Header(t));
        var rows = Rows(t);
        if (rows is not null)
            foreach (var row in rows) sb.Append('\n').Append(string.Join("  ", row));
        else
            sb.Append('\n').Append(Statistics(t));
        return sb.ToString();
    }

    /// <summary>HTML: the header, then a table (small tensors) or statistics (large ones).</summary>
    public static string ToHtml(Tensor t)
    {
        var sb = new StringBuilder("<div><code>").Append(System.Net.WebUtility.HtmlEncode(Header(t))).Append("</code>");
        var rows = Rows(t);
        if (rows is not null)
        {
            sb.Append("<table style=\"font-family:monospace\">");
            foreach (var row in rows)
                sb.Append("<tr>").Append(string.Concat(row.Select(v => $"<td style=\"text-align:right\">{v}</td>"))).Append("</tr>");
            sb.Append("</table>");
        }
        else
        {
            sb.Append("<div>").Append(Statistics(t)).Append("</div>");
        }
        return sb.Append("</div>").ToString();
    }

    static List<string[]>? Rows(Tensor t)
    {
        if (t.numel() > MaxShownElements || t.dim() > 2) return null;
        using var scope = NewDisposeScope();
        var values = t.detach().cpu().to_type(ScalarType.Float64).reshape(t.dim() == 2 ? t.shape : [1, t.numel()]);
        var data = values.data<double>().ToArray();
        var cols = (int)values.shape[1];
        var integral = !t.is_floating_point() && !t.is_complex();
        return Enumerable.Range(0, data.Length / Math.Max(cols, 1))
            .Select(r => data.Skip(r * cols).Take(cols).Select(v => integral
                ? v.ToString("F0", CultureInfo.InvariantCulture)
                : v.ToString("0.0000", CultureInfo.InvariantCulture)).ToArray())
            .ToList();
    }

    static string Statistics(Tensor t)
    {
        if (t.numel() == 0) return "(empty)";
        using var scope = NewDisposeScope();
        var x = t.detach().cpu().to_type(ScalarType.Float64);
        return string.Create(CultureInfo.InvariantCulture,
            $"min {x.min().item<double>():G4}  mean {x.mean().item<double>():G4}  max {x.max().item<double>():G4}  std {(x.numel() > 1 ? x.std().item<double>() : 0):G4}");
    }
}
