using System.Collections;
using System.IO.Compression;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>
/// PyTorch weights for TorchSharp modules: reads the files <c>torch.save(model.state_dict(), path)</c> writes (the zip
/// format of PyTorch 1.6 and later, read with TorchSharp.PyBridge) and copies them into modules by name.
/// </summary>
public static class StateDict
{
    /// <summary>
    /// Reads a state dict: parameter and buffer names (<c>features.0.weight</c>) and their tensors, on the CPU.
    /// <paramref name="entry"/> picks a nested dict from a checkpoint such as <c>{"epoch": 3, "model": state_dict}</c>.
    /// </summary>
    /// <exception cref="StateDictException">Missing file, not a zip checkpoint, a whole pickled model, or no tensors; the message says what to save instead.</exception>
    public static Dictionary<string, Tensor> Load(string path, string? entry = null)
    {
        if (!File.Exists(path)) throw new StateDictException($"{path}: state dict file not found");
        using var stream = File.OpenRead(path);
        CheckArchive(path, stream);
        Hashtable table;
        try { table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true); }
        catch (NotImplementedException e) when (e.Message.Contains("entire model", StringComparison.Ordinal))
        {
            throw new StateDictException(
                $"{path}: holds a whole pickled model (torch.save(model)), which needs its Python classes to read; save model.state_dict() instead", e);
        }
        catch (InvalidCastException e)
        {
            throw new StateDictException($"{path}: holds a single object that is not a dict; save a dict of tensors such as model.state_dict()", e);
        }
        catch (Exception e) when (e is NotImplementedException or InvalidDataException or Razorvine.Pickle.PickleException or InvalidOperationException)
        {
            throw new StateDictException($"{path}: not a readable PyTorch state dict ({e.Message})", e);
        }
        if (entry is not null)
            table = table[entry] as Hashtable
                ?? throw new StateDictException($"{path}: has no dict entry '{entry}'; entries: {string.Join(", ", Keys(table))}");

        var tensors = table.Cast<DictionaryEntry>().Where(e => e.Value is Tensor).ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);
        if (tensors.Count == 0)
        {
            var nested = table.Cast<DictionaryEntry>().Where(e => e.Value is Hashtable).Select(e => $"'{e.Key}'").ToList();
            var hint = nested.Count > 0 ? $"; it looks like a checkpoint: pass entry: {string.Join(" or ", nested)}" : "";
            throw new StateDictException($"{path}: holds no tensors (entries: {string.Join(", ", Keys(table))}){hint}");
        }
        return tensors;
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into <paramref name="module"/>'s parameters and buffers, matching names as
    /// PyTorch's <c>load_state_dict</c> does. With <paramref name="strict"/>, names missing on either side are an error.
    /// </summary>
    /// <exception cref="StateDictException">Names that do not match, or shapes that differ; the message lists them.</exception>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, bool strict = true, string source = "the state dict") =>
        Copy(module.state_dict(), tensors, strict, source);

    /// <summary>Reads a state dict file and copies it into <paramref name="module"/> (see <see cref="LoadInto(nn.Module, IReadOnlyDictionary{string, Tensor}, bool, string)"/>).</summary>
    public static void LoadInto(nn.Module module, string path, bool strict = true, string? entry = null)
    {
        using var scope = NewDisposeScope();
        LoadInto(module, Load(path, entry), strict, path);
    }

    /// <summary>
    /// Loads PyTorch weights into a <see cref="SequentialModel"/> whose stage names are the top-level module names of
    /// the PyTorch model (keys <c>stage.parameter</c>, as <c>nn.Sequential(OrderedDict(...))</c> saves them).
    /// </summary>
    public static void LoadInto(SequentialModel model, string path, bool strict = true, string? entry = null)
    {
        using var scope = NewDisposeScope();
        var targets = model.Stages
            .SelectMany(s => s.Stage.state_dict().Select(p => (Key: $"{s.Name}.{p.Key}", p.Value)))
            .ToDictionary(p => p.Key, p => p.Value);
        Copy(targets, Load(path, entry), strict, path);
    }

    static void Copy(IReadOnlyDictionary<string, Tensor> targets, IReadOnlyDictionary<string, Tensor> sources, bool strict, string source)
    {
        var missing = targets.Keys.Where(k => !sources.ContainsKey(k)).ToList();
        var unexpected = sources.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var problems = new List<string>();
        if (strict && missing.Count > 0) problems.Add($"missing {List(missing)}");
        if (strict && unexpected.Count > 0) problems.Add($"unexpected {List(unexpected)}");
        problems.AddRange(targets.Where(t => sources.TryGetValue(t.Key, out var s) && !s.shape.SequenceEqual(t.Value.shape))
            .Select(t => $"'{t.Key}' is [{string.Join(",", sources[t.Key].shape)}] in the file but [{string.Join(",", t.Value.shape)}] in the module"));
        if (problems.Count > 0) throw new StateDictException($"{source} does not fit the module: {string.Join("; ", problems)}");
        if (targets.Keys.All(k => !sources.ContainsKey(k)))
            throw new StateDictException($"{source} shares no names with the module (module: {List([.. targets.Keys])}; file: {List(unexpected)})");

        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
            if (sources.TryGetValue(name, out var value))
                target.copy_(value.to(target.dtype, target.device));
    }

    static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(8).Select(n => $"'{n}'")) + (names.Count > 8 ? $" and {names.Count - 8} more" : "");

    static IEnumerable<string> Keys(Hashtable table) => table.Keys.Cast<object>().Select(k => $"'{k}'");

    // torch.save has written zip archives with a data.pkl since PyTorch 1.6; anything else gets a specific message.
    static void CheckArchive(string path, Stream stream)
    {
        Span<byte> head = stackalloc byte[4];
        int read = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (read < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4)
        {
            string what = read >= 2 && head[0] == 0x80 && head[1] <= 5
                ? "a pickle in PyTorch's legacy format (before 1.6, or _use_new_zipfile_serialization=False)"
                : "not a zip archive, so not a torch.save file of PyTorch 1.6 or later";
            throw new StateDictException($"{path}: {what}; re-save it with torch.save(model.state_dict(), path) in PyTorch 1.6 or later");
        }
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            if (!zip.Entries.Any(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)))
                throw new StateDictException($"{path}: a zip archive without data.pkl, so not a torch.save file");
        }
        catch (InvalidDataException e) { throw new StateDictException($"{path}: a damaged zip archive ({e.Message})", e); }
        finally { stream.Position = 0; }
    }
}
