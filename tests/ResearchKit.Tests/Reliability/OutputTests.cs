using System.Text;
using System.Text.Json;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models.Onnx;
using ResearchKit.Rendering;
using ResearchKit.Tests.Cli;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Reliability;

/// <summary>Nothing is lost: existing outputs stay unless --force is given, every image has its JSON sidecar, and a
/// write that fails midway leaves neither a partial file nor a temporary one.</summary>
public sealed class OutputTests : IDisposable
{
    static readonly byte[] Kept = Encoding.UTF8.GetBytes("an earlier result");
    readonly Scratch _scratch = new();
    readonly OnnxModel _model;

    public OutputTests()
    {
        _model = OnnxModel.Load(TinyNet.Save(_scratch.File("tiny.onnx")));
        _scratch.Write("photo.png", BadImages.Valid(".png", size: 64));
    }

    public void Dispose()
    {
        _model.Dispose();
        _scratch.Dispose();
    }

    static DreamSettings QuickDream(string layer = "layer1") => new(layer) { Octaves = 1, StepsPerOctave = 2 };

    Tensor Photo() => ImageIO.Load(_scratch.File("photo.png"));

    /// <summary>Each result type refuses when its image or its sidecar exists, and leaves both as they were.</summary>
    [Fact]
    public void Saving_refuses_to_replace_an_image_or_a_sidecar_and_leaves_both_untouched()
    {
        using var render = Render.Plan(_model, "layer1:0").Size(32).Steps(2).Run();
        using var photo = Photo();
        using var dream = Dream.Run(_model, photo, QuickDream());
        using var sheet = Dream.CompareLayers(_model, photo, QuickDream(), ["layer1", "layer2"]);
        var saves = new Dictionary<string, Func<string, IReadOnlyList<string>>>
        {
            ["render"] = path => render.Save(path),
            ["dream"] = path => dream.Save(path),
            ["sheet"] = path => sheet.Save(path),
        };
        foreach (var (name, save) in saves)
            foreach (var existing in new[] { $"{name}.png", $"{name}.json" })
            {
                string image = _scratch.File($"{name}.png");
                var before = _scratch.Files();
                File.WriteAllBytes(_scratch.File(existing), Kept);
                var error = Assert.Throws<OutputExistsException>(() => save(image));
                Assert.Equal(Path.GetFullPath(_scratch.File(existing)), Path.GetFullPath(error.FilePath));
                Assert.Contains("--force", error.Message);
                Assert.Equal(Kept, File.ReadAllBytes(_scratch.File(existing)));
                Assert.Equal(before.Append(existing).Order(StringComparer.Ordinal), _scratch.Files());   // nothing else written
                File.Delete(_scratch.File(existing));
            }
    }

    [Fact]
    public void Every_saved_image_has_a_json_sidecar_saying_how_it_was_made()
    {
        using var render = Render.Plan(_model, "layer1:3").Size(32).Steps(3).Seed(7).Run();
        Assert.Equal(["render.png", "render.json"], render.Save(_scratch.File("render.png")).Select(Path.GetFileName));
        using (var json = JsonDocument.Parse(File.ReadAllText(_scratch.File("render.json"))))
        {
            var settings = json.RootElement.GetProperty("settings");
            Assert.Equal("channel layer1:3", settings.GetProperty("objective").GetString());
            Assert.Equal(7, json.RootElement.GetProperty("provenance").GetProperty("seed").GetInt32());
            Assert.Equal(3, settings.GetProperty("steps").GetInt32());
        }
        using (var image = ImageIO.Load(_scratch.File("render.png"))) Assert.Equal([1, 3, 32, 32], image.shape);

        using var photo = Photo();
        using var dream = Dream.Run(_model, photo, QuickDream() with { Seed = 4 });
        dream.Save(_scratch.File("dream.png"), source: "photo.png");
        using (var json = JsonDocument.Parse(File.ReadAllText(_scratch.File("dream.json"))))
        {
            var record = json.RootElement.GetProperty("settings");
            Assert.Equal("photo.png", record.GetProperty("source").GetString());
            Assert.Equal("layer layer1", record.GetProperty("settings").GetProperty("objective").GetString());
            Assert.Equal(4, record.GetProperty("settings").GetProperty("seed").GetInt32());
        }
    }

    [Fact]
    public void A_writer_that_throws_midway_leaves_no_file_and_no_temporary()
    {
        string path = _scratch.File("out/result.bin");
        void HalfThenFail(Stream s)
        {
            s.Write(new byte[10_000]);
            throw new IOException("disk full (simulated)");
        }
        Assert.Equal("disk full (simulated)", Assert.Throws<IOException>(() => AtomicFile.Write(path, HalfThenFail)).Message);
        Assert.DoesNotContain(_scratch.Files(), f => f.StartsWith("out", StringComparison.Ordinal));

        // Over an existing file: the old bytes stay.
        File.WriteAllBytes(path, Kept);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, HalfThenFail));
        Assert.Equal(Kept, File.ReadAllBytes(path));
        Assert.Equal([Path.Combine("out", "result.bin")], _scratch.Files().Where(f => f.StartsWith("out", StringComparison.Ordinal)));

        // Refusing to overwrite happens before the writer is called.
        bool called = false;
        Assert.Throws<OutputExistsException>(() => AtomicFile.Write(path, _ => called = true, overwrite: false));
        Assert.False(called);
    }

    [Fact]
    public void An_image_that_cannot_be_encoded_writes_nothing()
    {
        var before = _scratch.Files();
        using var nan = full(1, 3, 8, 8, float.NaN);
        Assert.Contains("NaN", Assert.Throws<InvalidSettingException>(() => ImageIO.Save(nan, _scratch.File("nan.png"))).Message);
        using var fine = zeros(1, 3, 8, 8);
        Assert.Contains("unknown image extension '.bmp'", Assert.Throws<InvalidSettingException>(() => ImageIO.Save(fine, _scratch.File("x.bmp"))).Message);
        Assert.Equal(before, _scratch.Files());
    }

    public static TheoryData<string, string[], string> CliCases => new()
    {
        { "visualize image", ["visualize", "--layer", "layer1", "--steps", "2", "--size", "32", "--out", "v.png"], "v.png" },
        { "visualize sidecar", ["visualize", "--layer", "layer1", "--steps", "2", "--size", "32", "--out", "v.png"], "v.json" },
        { "dream", ["dream", "photo.png", "--layer", "layer1", "--octaves", "1", "--steps", "1", "--out", "d.png"], "d.png" },
        { "priors", ["priors", "--layer", "layer1", "--channel", "0", "--steps", "2", "--size", "32", "--presets", "lucid", "--out", "p.png"], "p.png" },
        { "zoom animation", ["zoom", "--noise", "--size", "32", "--layer", "layer1", "--frames", "1", "--octaves", "1", "--steps", "1", "--out", "frames", "--gif", "z.gif"], "z.gif" },
        { "zoom folder", ["zoom", "--noise", "--size", "32", "--layer", "layer2", "--frames", "2", "--octaves", "1", "--steps", "1", "--out", "frames"], "frames" },
        { "layers-sheet", ["layers-sheet", "photo.png", "--layers", "layer1,layer2", "--octaves", "1", "--steps", "1", "--out", "s.png"], "s.png" },
    };

    [Theory]
    [MemberData(nameof(CliCases))]
    public void The_command_line_keeps_existing_outputs_without_force(string command, string[] args, string existing)
    {
        Assert.NotEmpty(command);
        if (existing == "frames")
        {
            // Frames of another zoom (another layer) already in the folder.
            var start = ZoomStart.Noise(32, 32, 0);
            ZoomLoop.Run(_model, start, new ZoomSettings(QuickDream() with { StepsPerOctave = 1 }) { Frames = 1 }, _scratch.File("frames"));
            start.Image.Dispose();
        }
        else File.WriteAllBytes(_scratch.File(existing), Kept);
        var contents = _scratch.Files().ToDictionary(f => f, f => File.ReadAllBytes(_scratch.File(f)));
        CliAssert.Fails(_scratch, [.. args, "--model", "tiny.onnx"], existing, "--force");
        Assert.All(contents, c => Assert.Equal(c.Value, File.ReadAllBytes(_scratch.File(c.Key))));
    }

    [Fact]
    public void With_force_the_command_line_replaces_the_image_and_writes_its_sidecar()
    {
        File.WriteAllBytes(_scratch.File("d.png"), Kept);
        var (code, _, error) = CliProcess.Run(_scratch.Path, "dream", "photo.png", "--model", "tiny.onnx", "--layer", "layer1",
            "--octaves", "1", "--steps", "2", "--out", "d.png", "--force");
        Assert.True(code == 0, error);
        using (var image = ImageIO.Load(_scratch.File("d.png"))) Assert.Equal([1, 3, 64, 64], image.shape);
        using var json = JsonDocument.Parse(File.ReadAllText(_scratch.File("d.json")));
        Assert.Equal("photo.png", json.RootElement.GetProperty("settings").GetProperty("source").GetString());
        Assert.DoesNotContain(_scratch.Files(), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
