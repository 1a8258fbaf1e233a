using System.Text.Json.Nodes;

namespace ResearchKit.IO;

/// <summary>Compares two recorded settings documents, for messages that say what changed between two runs.</summary>
public static class JsonDifference
{
    /// <summary>The values that differ, as "path: recorded → requested" joined by commas, or null when none do.</summary>
    public static string? Describe(JsonNode? recorded, JsonNode? requested)
    {
        var differences = new List<string>();
        void Compare(JsonNode? a, JsonNode? b, string path)
        {
            if (JsonNode.DeepEquals(a, b)) return;
            if (a is JsonObject oa && b is JsonObject ob)
                foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                    Compare(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}");
            else
                differences.Add($"{path}: {a?.ToJsonString() ?? "none"} → {b?.ToJsonString() ?? "none"}");
        }
        Compare(recorded, requested, "");
        return differences.Count == 0 ? null : string.Join(", ", differences);
    }
}
