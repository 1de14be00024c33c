using System.Text.Json.Nodes;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>Builds minimal .ipynb documents for tests, with the metadata the course's notebooks use.</summary>
static class NotebookJson
{
    public static string Create(params string[] codeCells)
    {
        var cells = new JsonArray();
        foreach (var code in codeCells)
            cells.Add(new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
                ["outputs"] = new JsonArray(),
                ["source"] = new JsonArray(code),
            });
        var doc = new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        return doc.ToJsonString();
    }
}
