using System.Globalization;
using System.Text.Json.Nodes;
using ResearchKit.IO;
using ResearchKit.Priors;
using ResearchKit.Rendering;

namespace ResearchKit.Atlas;

/// <summary>
/// What a layer atlas renders: one image per channel of <paramref name="Layer"/>. Defaults are Lucid's channel atlas
/// (Olah, Mordvintsev &amp; Schubert 2017): the Lucid prior at 224 px.
/// </summary>
/// <param name="Layer">Tap name or alias.</param>
/// <param name="Channels">The channels, ascending and distinct (see <see cref="ParseChannels"/>).</param>
/// <param name="Preset">Prior preset name (see <see cref="PriorPresets.All"/>).</param>
/// <param name="Steps">Optimizer steps; null for the preset's default.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Seed">Base seed; a batch's seed is this plus its first channel, so shards do not change the images.</param>
/// <param name="Batch">Channels rendered at once: channels c with the same c / Batch share one render.</param>
/// <param name="Images">Folder of photos for dataset examples; null for none.</param>
public sealed record AtlasSettings(string Layer, IReadOnlyList<int> Channels, string Preset = "lucid", int? Steps = null,
    int Height = 224, int Width = 224, int Seed = 0, int Batch = 1, string? Images = null)
{
    /// <summary>The channel groups rendered together, keyed by <c>channel / Batch</c>, in channel order.</summary>
    public IEnumerable<IReadOnlyList<int>> Groups() =>
        Channels.GroupBy(c => c / Batch).Select(g => (IReadOnlyList<int>)[.. g]);

    /// <summary>
    /// The settings (other than <see cref="Images"/>, which does not change the renders) where this and
    /// <paramref name="other"/> differ, as <c>name: this → other</c> (see <see cref="JsonDifference"/>); null when they
    /// render the same images.
    /// </summary>
    public string? Difference(AtlasSettings other) => JsonDifference.Describe(RenderKey(this), RenderKey(other));

    static JsonNode? RenderKey(AtlasSettings settings) =>
        KitJson.ToNode(settings with { Images = null, Preset = settings.Preset.ToLowerInvariant() });

    /// <summary>Checks the values and returns the settings with the channels sorted and distinct.</summary>
    /// <exception cref="InvalidSettingException">A value is out of range; the message names it and the valid range.</exception>
    public AtlasSettings Validated()
    {
        if (Channels.Count == 0) throw new InvalidSettingException("an atlas needs at least one channel");
        if (Channels.Any(c => c < 0)) throw new InvalidSettingException($"channels must be non-negative; got {FormatChannels(Channels)}");
        if (Batch is < 1 or > RenderPlan.MaxBatch) throw new InvalidSettingException($"batch must be in 1..{RenderPlan.MaxBatch}; got {Batch}");
        if (Steps is < 1) throw new InvalidSettingException($"steps must be positive; got {Steps}");
        if (Math.Min(Height, Width) < RenderPlan.MinSide || Math.Max(Height, Width) > RenderPlan.MaxSide)
            throw new InvalidSettingException($"image size {Width}x{Height} (width x height) must be within {RenderPlan.MinSide}..{RenderPlan.MaxSide} per side");
        PriorPresets.Get(Preset);
        return this with { Channels = [.. Channels.Distinct().Order()] };
    }

    /// <summary>Parses <c>0-255</c>, <c>7</c> or <c>0,5,9-12</c> into ascending distinct channels.</summary>
    /// <exception cref="InvalidSettingException">The text is not a list of channels or inclusive ranges.</exception>
    public static IReadOnlyList<int> ParseChannels(string text)
    {
        var channels = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-', StringSplitOptions.TrimEntries);
            if (ends.Length is < 1 or > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new InvalidSettingException($"channels '{text}': '{part}' is neither a channel nor a range like 0-255 (use e.g. 0,5,9-12)");
            int from = int.Parse(ends[0], CultureInfo.InvariantCulture), to = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (to < from) throw new InvalidSettingException($"channels '{text}': range '{part}' runs backwards");
            for (int c = from; c <= to; c++) channels.Add(c);
        }
        return [.. channels];
    }

    /// <summary>Writes channels compactly, e.g. <c>0-3,7</c>.</summary>
    public static string FormatChannels(IEnumerable<int> channels)
    {
        var parts = new List<string>();
        int? start = null, last = null;
        foreach (var c in channels.Order().Append(int.MaxValue))
        {
            if (start is null) { start = last = c; continue; }
            if (c == last + 1) { last = c; continue; }
            parts.Add(start == last ? $"{start}" : $"{start}-{last}");
            start = last = c;
        }
        return string.Join(",", parts);
    }
}
