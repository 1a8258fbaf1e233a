using System.Globalization;

namespace ResearchKit.Diagnostics;

/// <summary>Seed lists as people type them: <c>0-9</c>, <c>7</c> or <c>0,3,10-12</c>.</summary>
public static class SeedList
{
    /// <summary>The most seeds one list may name; a typo such as <c>0-99999999</c> must not allocate for hours.</summary>
    public const int MaximumCount = 10_000;

    /// <summary>Parses a list of non-negative seeds and inclusive ranges into ascending distinct seeds.</summary>
    /// <exception cref="InvalidSettingException">The text is not such a list, or names more than <see cref="MaximumCount"/> seeds.</exception>
    public static IReadOnlyList<int> Parse(string text)
    {
        var seeds = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-', StringSplitOptions.TrimEntries);
            if (ends.Length > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new InvalidSettingException($"seeds '{text}': '{part}' is neither a seed nor a range like 0-9 (use e.g. 0-9 or 0,3,10-12)");
            int from = int.Parse(ends[0], CultureInfo.InvariantCulture), to = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (to < from) throw new InvalidSettingException($"seeds '{text}': range '{part}' runs backwards");
            if ((long)to - from + 1 + seeds.Count > MaximumCount)
                throw new InvalidSettingException(FormattableString.Invariant($"seeds '{text}': more than {MaximumCount} seeds"));
            for (long seed = from; seed <= to; seed++) seeds.Add((int)seed);
        }
        return [.. seeds];
    }

    /// <summary>Writes seeds compactly, e.g. <c>0-9,12</c>.</summary>
    public static string Format(IEnumerable<int> seeds)
    {
        var runs = new List<(int From, int To)>();
        foreach (int seed in seeds.Distinct().Order())
        {
            if (runs.Count > 0 && runs[^1].To == seed - 1) runs[^1] = (runs[^1].From, seed);
            else runs.Add((seed, seed));
        }
        return string.Join(",", runs.Select(r => r.From == r.To
            ? r.From.ToString(CultureInfo.InvariantCulture)
            : FormattableString.Invariant($"{r.From}-{r.To}")));
    }
}
