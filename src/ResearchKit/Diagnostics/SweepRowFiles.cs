using System.Text.Json;
using System.Text.Json.Nodes;
using ResearchKit.IO;
using ResearchKit.Rendering;

namespace ResearchKit.Diagnostics;

/// <summary>
/// The finished seeds of a sweep folder: <c>seed-N.json</c> holds seed N's row and the recipe it was measured with —
/// the lab's settings less those that change no measurement (threads, verdict thresholds) and the visualizer.
/// </summary>
sealed class SweepRowFiles(string folder, DumbbellLabSettings settings, string visualizer)
{
    static readonly string[] UnmeasuredSettings =
        [nameof(DumbbellLabSettings.Threads), nameof(DumbbellLabSettings.MinimumScoreMargin), nameof(DumbbellLabSettings.MinimumAccuracyDrop)];

    static readonly JsonSerializerOptions ReadOptions = KitJson.Strict;

    public static string FileName(int seed) => FormattableString.Invariant($"seed-{seed}.json");

    public string ReportFolder(int seed, DumbbellSweepStage model) =>
        Path.Combine(folder, FormattableString.Invariant($"seed-{seed}"), model.ToString().ToLowerInvariant());

    /// <summary>
    /// The rows of <paramref name="seeds"/> that the folder holds from the same recipe. Rows from another recipe are an
    /// error, or with <paramref name="overwrite"/> deleted so that those seeds are measured again.
    /// </summary>
    public Dictionary<int, DumbbellSweepRow> Keep(IReadOnlyList<int> seeds, bool overwrite)
    {
        var kept = new Dictionary<int, DumbbellSweepRow>();
        var differing = new List<(int Seed, string Difference)>();
        foreach (int seed in seeds)
        {
            string path = Path.Combine(folder, FileName(seed));
            if (!File.Exists(path)) continue;
            var (row, difference) = Read(path, seed);
            if (row is not null) kept[seed] = row;
            else differing.Add((seed, difference!));
        }
        if (differing.Count == 0) return kept;
        if (!overwrite)
            throw new SweepFolderMismatchException(
                $"{Path.GetFullPath(folder)} holds seeds {SeedList.Format(differing.Select(d => d.Seed))} measured differently " +
                $"(seed {differing[0].Seed}: {differing[0].Difference}); use another folder, or --force (overwrite: true) to measure them again");
        foreach (var (seed, _) in differing) File.Delete(Path.Combine(folder, FileName(seed)));
        return kept;
    }

    public void Save(DumbbellSweepRow row) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName(row.Seed)), JsonSerializer.Serialize(new JsonObject
        {
            ["recipe"] = Recipe(row.Seed),
            ["row"] = JsonSerializer.SerializeToNode(row, KitJson.Options),
            ["libraryVersion"] = Provenance.Version,
        }, KitJson.Options));

    /// <summary>The row, or null and what differs from this sweep's recipe (or why the file is unusable).</summary>
    (DumbbellSweepRow? Row, string? Difference) Read(string path, int seed)
    {
        try
        {
            var saved = JsonNode.Parse(File.ReadAllText(path));
            if (saved?["recipe"] is not JsonObject recipe) return (null, "it records no recipe");
            if (IO.JsonDifference.Describe(recipe, Recipe(seed)) is { } difference) return (null, difference);
            var row = saved?["row"].Deserialize<DumbbellSweepRow>(ReadOptions);
            return row?.Seed == seed ? (row, null) : (null, "its row is missing or belongs to another seed");
        }
        catch (JsonException e)
        {
            return (null, $"unreadable ({e.Message})");
        }
    }

    JsonObject Recipe(int seed)
    {
        var measured = JsonSerializer.SerializeToNode(settings with { Seed = seed }, KitJson.Options)!.AsObject();
        foreach (var name in UnmeasuredSettings) measured.Remove(JsonNamingPolicy.CamelCase.ConvertName(name));
        return new JsonObject { ["settings"] = measured, ["visualizer"] = visualizer };
    }
}

/// <summary>A sweep folder holds seeds measured with other settings; the message says which seeds and what differs.</summary>
public sealed class SweepFolderMismatchException(string message) : InvalidFileException(message);
