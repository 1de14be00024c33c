using System.Text.Json;
using System.Text.Json.Nodes;

namespace RnnNotebooks.Cli;

/// <summary>What went wrong in a notebook that dotnet-repl or Jupyter executed and saved with its outputs.</summary>
public static class NotebookErrors
{
    /// <summary>
    /// Every error in an executed notebook: <c>error</c> outputs (a cell threw or failed to compile) and
    /// text written to standard error. Each entry names the cell (1-based) and its first lines.
    /// </summary>
    public static IReadOnlyList<string> Find(string executedNotebook)
    {
        JsonNode? doc;
        try
        {
            doc = JsonNode.Parse(File.ReadAllText(executedNotebook));
        }
        catch (JsonException e)
        {
            return [$"{executedNotebook}: not valid JSON ({e.Message})"];
        }
        var errors = new List<string>();
        var cells = doc?["cells"]?.AsArray() ?? [];
        for (var i = 0; i < cells.Count; i++)
        {
            foreach (var output in cells[i]?["outputs"]?.AsArray() ?? [])
            {
                var type = (string?)output?["output_type"];
                if (type == "error")
                {
                    var text = $"{output?["ename"]}: {output?["evalue"]}";
                    errors.Add($"cell {i + 1}: {FirstLines(text)}");
                }
                else if (type == "stream" && (string?)output?["name"] == "stderr")
                {
                    errors.Add($"cell {i + 1} wrote to stderr: {FirstLines(JoinText(output?["text"]))}");
                }
            }
        }
        return errors;
    }

    static string JoinText(JsonNode? text) =>
        text is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)text ?? "";

    static string FirstLines(string text, int count = 6) =>
        string.Join("\n", text.ReplaceLineEndings("\n").Split('\n').Where(l => l.Length > 0).Take(count));
}
