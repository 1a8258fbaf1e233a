using System.Text.Json;
using System.Text.Json.Serialization;

namespace ResearchKit.Models;

/// <summary>
/// When a render takes the redirected ReLU gradient (<see cref="ReluGradient"/>): never, for its first steps (Lucid's
/// choice, 16, which gets silent units firing and then leaves the ordinary gradient to shape the image), or throughout.
/// JSON writes it as its words: <c>"off"</c>, <c>"first 16 steps"</c>, <c>"throughout"</c>.
/// </summary>
[JsonConverter(typeof(ReluRedirectJsonConverter))]
public readonly record struct ReluRedirect
{
    ReluRedirect(int steps) => Steps = steps;

    /// <summary>Steps (from the first) that take the redirected gradient; <see cref="int.MaxValue"/> for all.</summary>
    public int Steps { get; }

    /// <summary>The ordinary ReLU gradient at every step.</summary>
    public static ReluRedirect Off => default;

    /// <summary>Redirected for every step.</summary>
    public static ReluRedirect Throughout => new(int.MaxValue);

    /// <summary>Lucid's setting: redirected for the first 16 steps.</summary>
    public static ReluRedirect Lucid => FirstSteps(16);

    /// <summary>Redirected for the first <paramref name="steps"/> steps (0: off).</summary>
    public static ReluRedirect FirstSteps(int steps) =>
        steps >= 0 ? new(steps) : throw new InvalidSettingException("the redirected ReLU gradient needs a step count of 0 or more", nameof(steps), steps);

    /// <summary>Whether step <paramref name="step"/> (0-based) takes the redirected gradient.</summary>
    public bool AppliesAt(int step) => step < Steps;

    /// <summary>Whether any step takes it.</summary>
    public bool IsOn => Steps > 0;

    /// <summary>Reads <c>off</c>, <c>throughout</c>, a step count (<c>16</c>) or <c>first 16 steps</c>.</summary>
    /// <exception cref="InvalidSettingException">None of these.</exception>
    public static ReluRedirect Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t is "off" or "none" or "never" or "0") return Off;
        if (t is "throughout" or "always" or "on") return Throughout;
        var count = t.StartsWith("first ") && t.EndsWith(" steps") ? t[6..^6] : t;
        return int.TryParse(count, out int steps) && steps > 0
            ? FirstSteps(steps)
            : throw new InvalidSettingException($"'{text}' is not a redirected-ReLU setting: use off, throughout or a number of first steps (Lucid: 16)", "redirect-relu", text);
    }

    /// <inheritdoc/>
    public override string ToString() => Steps switch { 0 => "off", int.MaxValue => "throughout", _ => $"first {Steps} steps" };
}

sealed class ReluRedirectJsonConverter : JsonConverter<ReluRedirect>
{
    public override ReluRedirect Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReluRedirect.Parse(reader.GetString() ?? "off");

    public override void Write(Utf8JsonWriter writer, ReluRedirect value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
