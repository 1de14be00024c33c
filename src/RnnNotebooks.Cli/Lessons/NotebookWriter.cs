using System.Globalization;
using System.Text;

namespace RnnNotebooks.Cli.Lessons;

/// <summary>
/// Writes a lesson as a notebook without outputs, with the metadata that VS Code, Jupyter and dotnet-repl all
/// accept. The layout (one-space indent, one value a line, Unicode unescaped) is the one Jupyter writes, so a
/// notebook saved by an editor diffs cleanly against a generated one.
/// </summary>
public static class NotebookWriter
{
    /// <summary>The notebook's JSON, ending with a newline.</summary>
    public static string Write(LessonSource lesson, string setupCell)
    {
        var w = new Writer();
        w.Line("{");
        w.Line(" \"cells\": [");
        for (var i = 0; i < lesson.Cells.Count; i++)
        {
            var cell = lesson.Cells[i];
            var text = cell.Kind == CellKind.Setup ? setupCell : cell.Text;
            w.Line("  {");
            if (cell.Kind == CellKind.Markdown)
            {
                w.Line("   \"cell_type\": \"markdown\",");
                w.Line("   \"metadata\": {},");
            }
            else
            {
                w.Line("   \"cell_type\": \"code\",");
                w.Line("   \"execution_count\": null,");
                w.Line("   \"metadata\": {");
                w.Line("    \"polyglot_notebook\": {");
                w.Line("     \"kernelName\": \"csharp\"");
                w.Line("    }");
                w.Line("   },");
                w.Line("   \"outputs\": [],");
            }
            w.Line("   \"source\": [");
            var lines = text.Split('\n');
            for (var j = 0; j < lines.Length; j++)
            {
                var last = j == lines.Length - 1;
                w.Line("    " + Quote(last ? lines[j] : lines[j] + "\n") + (last ? "" : ","));
            }
            w.Line("   ]");
            w.Line(i == lesson.Cells.Count - 1 ? "  }" : "  },");
        }
        w.Line(" ],");
        w.Line("""
             "metadata": {
              "kernelspec": {
               "display_name": ".NET (C#)",
               "language": "C#",
               "name": ".net-csharp"
              },
              "language_info": {
               "name": "polyglot-notebook"
              },
              "polyglot_notebook": {
               "kernelInfo": {
                "defaultKernelName": "csharp",
                "items": [
                 {
                  "name": "csharp",
                  "aliases": []
                 }
                ]
               }
              }
             },
             "nbformat": 4,
             "nbformat_minor": 5
            }
            """);
        return w.ToString();
    }

    /// <summary>A JSON string literal, escaping only what JSON requires.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case < ' ': sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }

    sealed class Writer
    {
        readonly StringBuilder sb = new();
        public void Line(string text) => sb.Append(text).Append('\n');
        public override string ToString() => sb.ToString();
    }
}
