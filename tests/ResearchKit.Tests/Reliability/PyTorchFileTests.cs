using System.Collections;
using System.IO.Compression;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Reliability;

/// <summary>PyTorch files that are not usable state dicts, and PyTorch files passed where an ONNX model is expected.</summary>
public sealed class PyTorchFileTests : IDisposable
{
    readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    // A real torch.save-style state dict of a small linear layer, as TorchSharp.PyBridge writes it.
    string StateDictFile(string name)
    {
        using var scope = NewDisposeScope();
        var path = _scratch.File(name);
        nn.Linear(6, 2).save_py(path);
        return path;
    }

    // A torch.save zip whose data.pkl holds the given object instead of a dict of tensors.
    string ArchiveHolding(string name, object value)
    {
        var path = _scratch.File(name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var stream = zip.CreateEntry("archive/data.pkl").Open())
            stream.Write(new Razorvine.Pickle.Pickler().dumps(value));
        using (var writer = new StreamWriter(zip.CreateEntry("archive/version").Open())) writer.Write("3\n");
        return path;
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "an ONNX model named .pt", "not a zip archive" },
        { "a JPEG named .pt", "not a zip archive" },
        { "a zip of other files", "a zip archive without data.pkl" },
        { "a state dict cut in half", "weights.pt" },
        { "a legacy pickle", "legacy format" },
        { "a pickled list", "not a dict" },
        { "a dict without tensors", "holds no tensors (entries: 'epoch')" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Files_that_are_not_state_dicts_raise_a_state_dict_exception_naming_the_file(string kind, string problem)
    {
        string path = kind switch
        {
            "an ONNX model named .pt" => _scratch.Write("weights.pt", TinyNet.Bytes()),
            "a JPEG named .pt" => _scratch.Write("weights.pt", BadImages.Valid(".jpg")),
            "a zip of other files" => ZipOfText(_scratch.File("weights.pt")),
            "a state dict cut in half" => _scratch.Write("weights.pt", File.ReadAllBytes(StateDictFile("whole.pt"))[..300]),
            "a legacy pickle" => _scratch.Write("weights.pt", [0x80, 0x02, .. BadModels.RandomBytes(64, seed: 2)]),
            "a pickled list" => ArchiveHolding("weights.pt", new ArrayList { 1, 2, 3 }),
            "a dict without tensors" => ArchiveHolding("weights.pt", new Hashtable { ["epoch"] = 3 }),
            _ => throw new ArgumentException(kind),
        };
        var error = Assert.Throws<StateDictException>(() => StateDict.Load(path));
        Assert.StartsWith(path, error.Message);
        Assert.Contains(problem, error.Message);
    }

    static string ZipOfText(string path)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var writer = new StreamWriter(zip.CreateEntry("notes.txt").Open());
        writer.Write("not weights");
        return path;
    }

    [Fact]
    public void A_state_dict_passed_as_a_model_says_to_export_to_onnx()
    {
        var error = Assert.Throws<ModelLoadException>(() => OnnxModel.Load(StateDictFile("weights.pt")));
        Assert.Contains("a zip archive (as PyTorch's torch.save writes), not an ONNX model; export the network with torch.onnx.export", error.Message);
        var legacy = _scratch.Write("legacy.pt", [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]);
        Assert.Contains("a Python pickle (PyTorch's legacy torch.save format)", Assert.Throws<ModelLoadException>(() => OnnxModel.Load(legacy)).Message);
    }

    [Fact]
    public void The_command_line_prints_one_error_line_for_a_state_dict_given_as_model()
    {
        StateDictFile("weights.pt");
        CliAssert.Fails(_scratch, ["visualize", "--model", "weights.pt", "--layer", "layer1", "--out", "v.png"],
            "weights.pt", "not an ONNX model; export the network with torch.onnx.export");
    }
}
