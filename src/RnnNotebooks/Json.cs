using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnNotebooks;

/// <summary>The one JSON style the library writes: snake_case names, indented, enums as strings.</summary>
public static class Json
{
    /// <summary>Serializer options shared by results, metrics and checkpoints.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
