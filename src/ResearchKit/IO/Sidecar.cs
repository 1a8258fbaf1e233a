using System.Text.Json.Nodes;

namespace ResearchKit.IO;

/// <summary>
/// The JSON file beside every image the kit writes (<c>out.png</c> → <c>out.json</c>): where it came from
/// (<see cref="Provenance"/>), the settings that made it, and how the work ended. One writer for every artifact, so
/// every sidecar reads the same way: <c>{ "provenance": …, "settings": …, "outcome": … }</c>.
/// </summary>
public static class Sidecar
{
    /// <summary><c>out.png</c> → <c>out.json</c>.</summary>
    public static string PathFor(string artifactPath) => Path.ChangeExtension(artifactPath, ".json");

    /// <summary>The sidecar document.</summary>
    public static string ToJson(Provenance provenance, object settings, object? outcome = null) => new JsonObject
    {
        ["provenance"] = KitJson.ToNode(provenance),
        ["settings"] = KitJson.ToNode(settings),
        ["outcome"] = outcome is null ? null : KitJson.ToNode(outcome),
    }.ToJsonString(KitJson.Options);

    /// <summary>Writes the sidecar of <paramref name="artifactPath"/> atomically; returns its path.</summary>
    public static string Write(string artifactPath, Provenance provenance, object settings, object? outcome = null)
    {
        string path = PathFor(artifactPath);
        AtomicFile.WriteAllText(path, ToJson(provenance, settings, outcome));
        return path;
    }

    /// <summary>The <c>settings</c> part of a sidecar on disk, or null when it is missing or unreadable.</summary>
    public static JsonNode? ReadSettings(string artifactPath)
    {
        string path = PathFor(artifactPath);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["settings"];
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
