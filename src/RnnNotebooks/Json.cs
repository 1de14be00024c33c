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

    /// <summary>
    /// Reads a config or options file written with <see cref="Options"/> and checks it with <paramref name="validate"/>.
    /// Every problem becomes an <see cref="InvalidDataException"/> naming the file and the key: <paramref name="validate"/>
    /// throws <see cref="ArgumentException"/>s whose parameter name is the property (a dotted path for nested records,
    /// see <see cref="Within"/>).
    /// </summary>
    internal static T ReadFile<T>(string path, string what, Action<T> validate) where T : class
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid {what}: {e.Message}", e);
        }
        if (value is null) throw new InvalidDataException($"{path}: expected a {what}, found null.");
        try
        {
            validate(value);
        }
        catch (ArgumentException e)
        {
            var key = string.Join('.', (e.ParamName ?? "?").Split('.').Select(Options.PropertyNamingPolicy!.ConvertName));
            var problem = e switch
            {
                ArgumentNullException => "is missing",
                ArgumentOutOfRangeException { ActualValue: { } v } => $"= {v} is out of range: {Reason(e)}",
                _ => Reason(e),
            };
            throw new InvalidDataException($"{path}: \"{key}\" {problem}. This {what} was not written by this course's code, " +
                "or was edited; fix the key or train again.", e);
        }
        return value;
    }

    /// <summary>Runs <paramref name="validate"/> for the nested record <paramref name="property"/>, so that an error names
    /// its path (<c>Model.Hidden</c>); a null record is reported as missing.</summary>
    internal static void Within(string property, object? record, Action validate)
    {
        if (record is null) throw new ArgumentNullException(property);
        try
        {
            validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentOutOfRangeException($"{property}.{e.ParamName}", e.ActualValue, Reason(e));
        }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            throw new ArgumentException(Reason(e), $"{property}.{e.ParamName}", e);
        }
    }

    static string Reason(ArgumentException e) =>
        e.Message.Split('\n')[0].Split(" (Parameter '")[0].TrimEnd('.');
}
