using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ResearchKit.IO;

/// <summary>
/// The one JSON style of everything the kit writes (sidecars, manifests, reports, command output): camelCase names,
/// enums as camelCase strings, indented, NaN and infinities as named literals (a diverged run still writes its record),
/// and text as written (σ, β, +) rather than \u escapes; pages that embed JSON in a script element escape "&lt;" themselves.
/// </summary>
public static class KitJson
{
    /// <summary>The serializer options.</summary>
    public static JsonSerializerOptions Options { get; } = Create(requireConstructorParameters: false);

    /// <summary>The same style for reading records that must be complete: a missing constructor parameter is an error.</summary>
    public static JsonSerializerOptions Strict { get; } = Create(requireConstructorParameters: true);

    /// <summary><paramref name="value"/> as indented camelCase JSON.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary><paramref name="value"/> as a JSON node, for documents assembled from parts.</summary>
    public static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, Options);

    static JsonSerializerOptions Create(bool requireConstructorParameters)
    {
        var options = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            RespectRequiredConstructorParameters = requireConstructorParameters,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
