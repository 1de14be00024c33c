using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnNotebooks;

/// <summary>
/// The one JSON style the library writes — results, metrics, histories and checkpoints alike: snake_case names,
/// indented, enums as strings, NaN and infinities as strings (a diverged run's loss must still be written).
/// </summary>
public static class Json
{
    /// <summary>Serializer options shared by results, metrics and checkpoints.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
