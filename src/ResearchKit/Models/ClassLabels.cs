using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ResearchKit.Models;

/// <summary>Class labels of a classifier: reading label files, and finding a class by name or index.</summary>
public static partial class ClassLabels
{
    /// <summary>
    /// Reads labels (index → label) from a file in any of the common layouts: text with one label per line, text with
    /// <c>index label</c> lines (any order, indices 0..n−1), WordNet <c>synset_words.txt</c> lines
    /// (<c>n01440764 tench, Tinca tinca</c>), a JSON array of strings, or a JSON object of index → label or
    /// index → [id, label] (Keras's <c>imagenet_class_index.json</c>).
    /// </summary>
    /// <exception cref="LabelFileException">Missing, empty or malformed file; the message names the file and line.</exception>
    public static IReadOnlyList<string> Load(string path)
    {
        if (!File.Exists(path)) throw new LabelFileException($"{path}: label file not found");
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new LabelFileException($"{path}: cannot read the label file ({e.Message})", e); }
        var trimmed = text.TrimStart();
        if (trimmed.Length == 0) throw new LabelFileException($"{path}: the label file is empty");
        var labels = trimmed[0] is '[' or '{' ? FromJson(path, text) : FromLines(path, text);
        return labels.Count > 0 ? labels : throw new LabelFileException($"{path}: the label file holds no labels");
    }

    /// <summary>
    /// The class index that <paramref name="nameOrIndex"/> names for <paramref name="model"/>: an index ("543", checked
    /// against the number of classes), or a label ("dumbbell"; case-insensitive, matching a whole label or one of its
    /// comma-separated synonyms, as in ImageNet's "tench, Tinca tinca").
    /// </summary>
    /// <exception cref="UnknownClassException">No such class, or a name shared by several; the message lists near matches.</exception>
    public static int Resolve(Model model, string nameOrIndex) =>
        Resolve(model.Labels, nameOrIndex, model.Labels.Count > 0 ? model.Labels.Count : ClassCount(model), $"model '{model.Name}'");

    /// <summary>The class index <paramref name="nameOrIndex"/> names in <paramref name="labels"/> (see <see cref="Resolve(Model, string)"/>).</summary>
    public static int Resolve(IReadOnlyList<string> labels, string nameOrIndex, int? classCount = null, string owner = "the label list")
    {
        var query = nameOrIndex.Trim();
        int count = classCount ?? labels.Count;
        if (int.TryParse(query, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            return index < count ? index
                : throw new UnknownClassException($"{owner} has classes 0..{count - 1}; class {index} does not exist");
        if (labels.Count == 0)
            throw new UnknownClassException(
                $"{owner} has no class labels, so class '{query}' cannot be looked up; give an index 0..{count - 1} or load labels with ClassLabels.Load");

        var whole = Matches(labels, l => string.Equals(l.Trim(), query, StringComparison.OrdinalIgnoreCase));
        var matches = whole.Count > 0 ? whole
            : Matches(labels, l => Synonyms(l).Any(s => string.Equals(s, query, StringComparison.OrdinalIgnoreCase)));
        if (matches.Count == 1) return matches[0];
        if (matches.Count > 1)
            throw new UnknownClassException(
                $"'{query}' names {matches.Count} classes of {owner}: {string.Join("; ", matches.Select(k => $"{k} {labels[k]}"))}; give the index");
        var near = NearMatches(labels, query);
        var hint = near.Count > 0 ? $"; did you mean {string.Join("; ", near.Select(k => $"{k} {labels[k]}"))}?" : "";
        throw new UnknownClassException($"{owner} has no class '{query}' ({labels.Count} labels){hint}");
    }

    static List<int> Matches(IReadOnlyList<string> labels, Func<string, bool> match) =>
        [.. Enumerable.Range(0, labels.Count).Where(k => match(labels[k]))];

    static IEnumerable<string> Synonyms(string label) => label.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0);

    // Labels containing the query (or contained in it) first, then those within a few edits of it.
    static List<int> NearMatches(IReadOnlyList<string> labels, string query)
    {
        var q = query.ToLowerInvariant();
        int allowed = Math.Max(2, q.Length / 3);
        return Enumerable.Range(0, labels.Count)
            .Select(k => (Index: k, Distance: Synonyms(labels[k]).Select(s => s.ToLowerInvariant())
                .Min(s => s.Contains(q) || q.Contains(s) ? 0 : Levenshtein(s, q))))
            .Where(m => m.Distance <= allowed)
            .OrderBy(m => m.Distance).ThenBy(m => m.Index)
            .Take(5).Select(m => m.Index).ToList();
    }

    static int Levenshtein(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    // Without labels, the number of classes is the width of the logits (or of the output).
    static int ClassCount(Model model)
    {
        var tap = model.Tap(model.Aliases.ContainsKey("logits") ? "logits" : model.OutputTap);
        return tap.Shape.Length == 2 ? (int)tap.Shape[1]
            : throw new UnknownClassException($"model '{model.Name}' has no class scores (its output is {tap.ShapeText}), so it has no classes");
    }

    static List<string> FromLines(string path, string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        int blank = lines.FindIndex(l => l.Trim().Length == 0);
        if (blank >= 0)
            throw new LabelFileException($"{path}:{blank + 1}: blank line inside the label list (each line is one class, so it would shift every index after it)");

        if (lines.All(l => Synset().IsMatch(l))) return [.. lines.Select(l => Synset().Match(l).Groups[1].Value.Trim())];
        if (!lines.All(l => Indexed().IsMatch(l))) return [.. lines.Select(l => l.Trim())];
        var labels = new string?[lines.Count];
        for (int n = 0; n < lines.Count; n++)
        {
            var m = Indexed().Match(lines[n]);
            if (!int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= lines.Count)
                throw new LabelFileException($"{path}:{n + 1}: index {m.Groups[1].Value} is outside 0..{lines.Count - 1} (the file has {lines.Count} labels)");
            if (labels[index] is not null) throw new LabelFileException($"{path}:{n + 1}: index {index} appears twice");
            labels[index] = m.Groups[2].Value.Trim();
        }
        return [.. labels.Select(l => l!)];
    }

    static List<string> FromJson(string path, string text)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new LabelFileException($"{path}: not valid JSON ({e.Message})", e); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
                return [.. root.EnumerateArray().Select((e, k) => e.ValueKind == JsonValueKind.String ? e.GetString()!
                    : throw new LabelFileException($"{path}: entry {k} of the JSON array is {e.ValueKind}, not a string"))];

            var entries = root.EnumerateObject().ToList();
            var labels = new string?[entries.Count];
            foreach (var entry in entries)
            {
                if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= entries.Count)
                    throw new LabelFileException($"{path}: key '{entry.Name}' is not a class index 0..{entries.Count - 1}");
                var value = entry.Value;
                // Keras's layout: "0": ["n01440764", "tench"].
                if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0) value = value[value.GetArrayLength() - 1];
                if (value.ValueKind != JsonValueKind.String)
                    throw new LabelFileException($"{path}: class {entry.Name} has a {value.ValueKind} label; expected a string or [id, label]");
                if (labels[index] is not null) throw new LabelFileException($"{path}: class {index} appears twice");
                labels[index] = value.GetString()!;
            }
            return [.. labels.Select(l => l!)];
        }
    }

    [GeneratedRegex(@"^\s*n\d{8}\s+(\S.*)$")]
    private static partial Regex Synset();

    [GeneratedRegex(@"^\s*(\d+)\s*[:\s]\s*(\S.*)$")]
    private static partial Regex Indexed();
}
