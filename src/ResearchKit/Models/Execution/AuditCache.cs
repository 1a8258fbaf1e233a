using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ResearchKit.IO;
using ResearchKit.Native;
using static TorchSharp.torch;

namespace ResearchKit.Models.Execution;

/// <summary>
/// <see cref="ConvolutionAudit"/>'s findings kept across processes, in one JSON file per machine: the file's name is
/// a hash of what decides oneDNN's results (the CPU's model, flags and cache sizes, the libtorch and TorchSharp
/// versions, the thread count, the audit's own format), under <c>audit/</c> in ResearchKit's cache folder
/// (<see cref="TorchRuntime.CacheFolder"/>). Written atomically; an unreadable file counts as empty and is replaced.
/// </summary>
public sealed class AuditCache
{
    // Bump when the audit's data, tolerances or variants change: old findings then stop applying.
    const int Format = 3;

    /// <summary>A cache in <paramref name="file"/>.</summary>
    public AuditCache(string file) => File = file;

    /// <summary>The file the findings live in.</summary>
    public string File { get; }

    /// <summary>What the last <see cref="Read"/> found wrong with the file, or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>This machine's cache in ResearchKit's cache folder.</summary>
    public static AuditCache ForThisMachine() =>
        new(Path.Combine(TorchRuntime.CacheFolder(), "audit", $"convolutions-{Key(MachineDescription())}.json"));

    /// <summary>What the cache file is keyed by, in words.</summary>
    public static string MachineDescription() => string.Join("\n",
        $"cpu: {Processor.Name}", $"flags: {Processor.Info("flags")}", $"caches: {CacheSizes()}",
        $"libtorch: {TorchRuntime.LibTorchVersion}", $"torchsharp: {typeof(TorchSharp.torch).Assembly.GetName().Version}",
        $"threads: {get_num_threads()}", $"format: {Format}");

    static string Key(string description) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(description)))[..16];

    /// <summary>The findings in the file, by audited shape and mode; empty when there is no usable file.</summary>
    public IReadOnlyDictionary<(ConvolutionShape, ExecutionMode), ConvolutionCheck> Read()
    {
        Problem = null;
        if (!System.IO.File.Exists(File)) return new Dictionary<(ConvolutionShape, ExecutionMode), ConvolutionCheck>();
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(System.IO.File.ReadAllText(File), Json);
            if (stored?.Checks is null || stored.Format != Format) throw new JsonException($"not a format-{Format} audit cache");
            return stored.Checks.GroupBy(c => (c.Shape, c.Mode)).ToDictionary(g => g.Key, g => g.Last());
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException or ArgumentException or UnauthorizedAccessException)
        {
            Problem = $"{File}: ignored ({e.Message.Split('\n')[0]})";
            return new Dictionary<(ConvolutionShape, ExecutionMode), ConvolutionCheck>();
        }
    }

    /// <summary>
    /// Adds findings to the file (replacing older ones for the same shape and mode). Two processes adding at once may
    /// lose one's findings, never corrupt the file: a lost finding is audited again next time. A cache that cannot be
    /// written (read-only home) is skipped.
    /// </summary>
    public void Add(IEnumerable<ConvolutionCheck> checks)
    {
        var all = Read().Values.Concat(checks).GroupBy(c => (c.Shape, c.Mode)).Select(g => g.Last()).ToList();
        try
        {
            AtomicFile.WriteAllText(File, JsonSerializer.Serialize(new Stored(Format, MachineDescription(), all), Json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Problem = $"{File}: not written ({e.Message})"; }
    }

    sealed record Stored(int Format, string Machine, List<ConvolutionCheck> Checks);

    internal static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new ModeByName() },
    };

    sealed class ModeByName : JsonConverter<ExecutionMode>
    {
        public override ExecutionMode Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            try { return ExecutionMode.Parse(reader.GetString() ?? ""); }
            catch (ArgumentException e) { throw new JsonException(e.Message, e); }
        }

        public override void Write(Utf8JsonWriter writer, ExecutionMode value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
    }

    // oneDNN derives its blocking from the cache sizes the CPU reports, which differ between VMs of one CPU model.
    static string CacheSizes()
    {
        const string folder = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(folder)) return "unknown";
        return string.Join(",", Directory.GetDirectories(folder, "index*").Order()
            .Select(d => Path.Combine(d, "size")).Where(System.IO.File.Exists).Select(f => System.IO.File.ReadAllText(f).Trim()));
    }
}
