using System.Globalization;

namespace ResearchKit.Atlas;

/// <summary>
/// One of <paramref name="Count"/> parts of an atlas, 0-based: channel group g (channels c with c / batch = g) belongs to
/// shard g % Count, so with batch 1 channel c belongs to shard c % Count.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>The whole atlas in one part.</summary>
    public static Shard All { get; } = new(0, 1);

    /// <summary>Environment variables that hold a task's index, checked in this order for <c>auto/n</c>.</summary>
    public static IReadOnlyList<string> IndexVariables { get; } = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

    /// <summary>Whether channel <paramref name="channel"/> is rendered by this shard when <paramref name="batch"/> channels render at once.</summary>
    public bool Owns(int channel, int batch) => channel / batch % Count == Index;

    /// <summary>
    /// Parses <c>i/n</c> (0 ≤ i &lt; n), or <c>auto/n</c> which takes i from SLURM_ARRAY_TASK_ID or
    /// JOB_COMPLETION_INDEX (a Slurm job array or an indexed Kubernetes Job).
    /// </summary>
    /// <exception cref="InvalidSettingException">The text is malformed, out of range, or auto finds no index variable.</exception>
    public static Shard Parse(string text, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var parts = text.Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !TryCount(parts[1], out int count))
            throw new InvalidSettingException($"shard '{text}' is not i/n with n ≥ 1 (e.g. 0/8, or auto/8 inside a Slurm array or an indexed Kubernetes Job)");
        string indexText = parts[0];
        string source = "";
        if (indexText.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            var variable = IndexVariables.FirstOrDefault(v => !string.IsNullOrWhiteSpace(environment(v)))
                ?? throw new InvalidSettingException($"shard '{text}': neither {string.Join(" nor ", IndexVariables)} is set; give the index, e.g. 0/{count}");
            indexText = environment(variable)!.Trim();
            source = $" (from {variable})";
        }
        if (!int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= count)
            throw new InvalidSettingException($"shard '{text}': index '{indexText}'{source} must be an integer in 0..{count - 1}");
        return new Shard(index, count);
    }

    static bool TryCount(string text, out int count) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= 1;

    /// <inheritdoc/>
    public override string ToString() => $"{Index}/{Count}";
}
