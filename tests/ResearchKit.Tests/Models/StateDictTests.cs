using System.IO.Compression;
using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

/// <summary>PyTorch state dicts (tests/fixtures/statedict, made by make_fixtures.py there) load into TorchSharp modules.</summary>
public sealed class StateDictTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("researchkit-statedict-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tests", "fixtures", "statedict", name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"fixture {name} not found above {AppContext.BaseDirectory}");
    }

    // The same network as make_fixtures.py's tiny_cnn, stage for stage.
    static SequentialModel TinyCnn() => new("tiny-cnn", [
        ("features", nn.Conv2d(3, 4, 3, stride: 2)),
        ("norm", nn.BatchNorm2d(4)),
        ("act", nn.ReLU()),
        ("logits", nn.Sequential(nn.Flatten(), nn.Linear(4 * 3 * 3, 3))),
    ], 8, 8);

    [Fact]
    public void Reads_every_parameter_and_buffer_with_its_shape()
    {
        using var scope = NewDisposeScope();
        var state = StateDict.Load(Fixture("tiny_cnn.pt"));
        var shapes = state.ToDictionary(p => p.Key, p => p.Value.shape);
        Assert.Equal(new long[] { 4, 3, 3, 3 }, shapes["features.weight"]);
        Assert.Equal(new long[] { 4 }, shapes["norm.running_var"]);
        Assert.Equal(new long[] { 3, 36 }, shapes["logits.1.weight"]);
        Assert.Equal(3L, state["norm.num_batches_tracked"].item<long>());
        Assert.Equal(9, state.Count);
    }

    [Fact]
    public void A_sequential_model_with_loaded_weights_reproduces_pytorchs_output()
    {
        using var model = TinyCnn();
        StateDict.LoadInto(model, Fixture("tiny_cnn.pt"));
        using var scope = NewDisposeScope();
        var io = StateDict.Load(Fixture("tiny_cnn_io.pt"));
        var ours = model.Forward(io["input"]);
        var error = (ours - io["output"]).abs().max().item<float>();
        Assert.True(error < 1e-5f * io["output"].abs().max().item<float>(), $"max |error| {error}");
        // Running statistics are buffers: an untrained batch norm would have mean 0 and variance 1.
        Assert.True(((TorchSharp.Modules.BatchNorm2d)model.Stages[1].Stage).running_var!.sub(1).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void A_plain_module_loads_the_same_weights_by_name()
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(3, 4, 3, stride: 2);
        var state = StateDict.Load(Fixture("tiny_cnn.pt"));
        var features = state.Where(p => p.Key.StartsWith("features.")).ToDictionary(p => p.Key["features.".Length..], p => p.Value);
        StateDict.LoadInto(conv, features);
        Assert.Equal(features["weight"].data<float>().ToArray(), conv.weight!.data<float>().ToArray());
    }

    [Fact]
    public void A_checkpoint_loads_through_its_entry_and_says_so_otherwise()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<StateDictException>(() => StateDict.Load(Fixture("checkpoint.pt")));
        Assert.Contains("pass entry: 'model'", error.Message);
        Assert.Equal(9, StateDict.Load(Fixture("checkpoint.pt"), entry: "model").Count);
        using var model = TinyCnn();
        StateDict.LoadInto(model, Fixture("checkpoint.pt"), entry: "model");
    }

    [Theory]
    [InlineData("whole_model.pt", "whole pickled model")]
    [InlineData("legacy_format.pt", "legacy format")]
    public void Files_that_are_not_state_dicts_say_what_to_save_instead(string name, string message)
    {
        var error = Assert.Throws<StateDictException>(() => StateDict.Load(Fixture(name)));
        Assert.Contains(name, error.Message);
        Assert.Contains(message, error.Message);
        Assert.Contains("state_dict()", error.Message);
    }

    [Fact]
    public void Random_bytes_an_empty_file_an_unrelated_zip_and_a_missing_file_are_typed_errors()
    {
        var random = Path.Combine(_folder, "random.pt");
        var bytes = new byte[512];
        new Random(3).NextBytes(bytes);
        File.WriteAllBytes(random, bytes);
        var empty = Path.Combine(_folder, "empty.pt");
        File.WriteAllBytes(empty, []);
        var zip = Path.Combine(_folder, "photos.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            using (var writer = new StreamWriter(archive.CreateEntry("readme.txt").Open())) writer.Write("not weights");
        var truncated = Path.Combine(_folder, "truncated.pt");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Fixture("tiny_cnn.pt"))[..1000]);

        Assert.Contains("not a zip archive", Assert.Throws<StateDictException>(() => StateDict.Load(random)).Message);
        Assert.Contains("not a zip archive", Assert.Throws<StateDictException>(() => StateDict.Load(empty)).Message);
        Assert.Contains("without data.pkl", Assert.Throws<StateDictException>(() => StateDict.Load(zip)).Message);
        Assert.Contains("truncated.pt", Assert.Throws<StateDictException>(() => StateDict.Load(truncated)).Message);
        Assert.Contains("not found", Assert.Throws<StateDictException>(() => StateDict.Load(Path.Combine(_folder, "none.pt"))).Message);
    }

    [Fact]
    public void Weights_that_do_not_fit_name_the_mismatches()
    {
        using var wider = new SequentialModel("wider", [
            ("features", nn.Conv2d(3, 5, 3, stride: 2)),
            ("norm", nn.BatchNorm2d(5)),
            ("logits", nn.Sequential(nn.Flatten(), nn.Linear(5 * 3 * 3, 3))),
            ("extra", nn.Linear(3, 2)),
        ], 8, 8);
        var error = Assert.Throws<StateDictException>(() => StateDict.LoadInto(wider, Fixture("tiny_cnn.pt")));
        Assert.Contains("missing 'extra.weight', 'extra.bias'", error.Message);
        Assert.Contains("'features.weight' is [4,3,3,3] in the file but [5,3,3,3] in the module", error.Message);
        Assert.Contains("tiny_cnn.pt", error.Message);

        // Without strict, extra names are fine but shapes must still agree.
        using var model = new SequentialModel("partial", [("features", nn.Conv2d(3, 4, 3, stride: 2)), ("extra", nn.Linear(3, 2))], 8, 8);
        StateDict.LoadInto(model, Fixture("tiny_cnn.pt"), strict: false);
        Assert.Throws<StateDictException>(() => StateDict.LoadInto(model, Fixture("tiny_cnn.pt")));
    }

    [Fact]
    public void Pybridge_round_trip_of_a_torchsharp_module()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var source = nn.Linear(6, 2);
        var file = Path.Combine(_folder, "linear.pt");
        TorchSharp.PyBridge.PyBridgeModuleExtensions.save_py(source, file);
        manual_seed(12);
        var target = nn.Linear(6, 2);
        StateDict.LoadInto(target, file);
        Assert.Equal(source.weight!.data<float>().ToArray(), target.weight!.data<float>().ToArray());
    }
}
