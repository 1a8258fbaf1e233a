using System.Text.Json;
using ResearchKit.Imaging;

namespace ResearchKit.Tests.Cli;

public sealed class CliTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Help_lists_the_commands()
    {
        var (code, output, _) = CliProcess.Run(_folder, "--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "layers", "activations", "visualize", "priors", "dream", "zoom", "layers-sheet", "gallery", "atlas", "bench" })
            Assert.Contains(command, output);
    }

    [Fact]
    public void Layers_lists_the_blocks_with_their_shapes()
    {
        var (code, output, _) = CliProcess.Run(_folder, "layers", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var layer3 = json.RootElement.GetProperty("taps").EnumerateArray()
            .Single(t => t.GetProperty("aliases").EnumerateArray().Any(a => a.GetString() == "layer3"));
        Assert.Equal([1, 256, 14, 14], layer3.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Fact]
    public void Activations_report_every_channel_and_a_visualization_drives_its_channel()
    {
        var photo = SampleImages.Path("chelsea");
        var (code, output, error) = CliProcess.Run(_folder, "activations", photo, "--layer", "layer2", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("layer2", json.RootElement.GetProperty("layer").GetString());
        var channels = json.RootElement.GetProperty("channels").EnumerateArray().Select(c => c.GetDouble()).ToArray();
        Assert.Equal(128, channels.Length);
        Assert.All(channels, c => Assert.True(c >= 0, "layer2 follows a ReLU"));

        var rendered = Path.Combine(_folder, "l2c5.png");
        (code, _, error) = CliProcess.Run(_folder, "visualize", "--layer", "layer2", "--channel", "5", "--steps", "32", "--size", "96", "--out", rendered);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.ChangeExtension(rendered, ".json")));
        (code, output, _) = CliProcess.Run(_folder, "activations", rendered, "--layer", "layer2", "--json");
        using var after = JsonDocument.Parse(output);
        var renderedChannels = after.RootElement.GetProperty("channels").EnumerateArray().Select(c => c.GetDouble()).ToArray();
        Assert.True(renderedChannels[5] > channels[5], $"channel 5: rendered {renderedChannels[5]} vs photo {channels[5]}");
    }

    [Theory]
    [InlineData("no-such-image.jpg", "layer2", "no-such-image.jpg")]
    [InlineData("CHELSEA", "layer9", "layer9")]
    public void Bad_input_is_one_clear_line_and_a_non_zero_exit(string image, string layer, string named)
    {
        if (image == "CHELSEA") image = SampleImages.Path("chelsea");
        var (code, output, error) = CliProcess.Run(_folder, "activations", image, "--layer", layer);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(named, error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal("", output);
    }

    [Fact]
    public void A_bad_model_file_is_named_in_the_error()
    {
        var bogus = Path.Combine(_folder, "model.onnx");
        File.WriteAllText(bogus, "not a model");
        var (code, _, error) = CliProcess.Run(_folder, "layers", "--model", bogus);
        Assert.Equal(1, code);
        Assert.Contains("model.onnx", error);
    }

    [Fact]
    public void Visualize_renders_the_width_and_height_asked_for_and_records_them()
    {
        var output = Path.Combine(_folder, "wide.png");
        var (code, _, error) = CliProcess.Run(_folder, "visualize", "--layer", "layer1", "--channel", "0", "--steps", "2",
            "--width", "96", "--height", "48", "--out", output);
        Assert.True(code == 0, error);
        using (var image = ImageIO.Load(output)) Assert.Equal([1, 3, 48, 96], image.shape);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(output, ".json")));
        var settings = json.RootElement.GetProperty("settings");
        Assert.Equal((96, 48), (settings.GetProperty("width").GetInt32(), settings.GetProperty("height").GetInt32()));
    }

    [Fact]
    public void Visualize_with_maco_and_transparency_writes_an_rgba_png_and_the_transparency_map()
    {
        var output = Path.Combine(_folder, "t.png");
        var (code, _, error) = CliProcess.Run(_folder, "visualize", "--layer", "layer1", "--channel", "0", "--steps", "3", "--size", "32",
            "--param", "maco", "--transparency", "--out", output);
        Assert.True(code == 0, error);
        using (var image = ImageIO.LoadRgba(output))
        {
            Assert.Equal([1, 4, 32, 32], image.shape);
            Assert.True(image.narrow(1, 3, 1).min().item<float>() < 1, "the alpha channel is all opaque");
        }
        using (var map = ImageIO.Load(Path.Combine(_folder, "t-transparency.png"))) Assert.Equal(1f, map.max().item<float>());
        using (var rgba = ImageIO.LoadRgba(Path.Combine(_folder, "t-transparency-rgba.png"))) Assert.Equal([1, 4, 32, 32], rgba.shape);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(output, ".json")));
        var settings = json.RootElement.GetProperty("settings");
        Assert.StartsWith("maco+decorrelated", settings.GetProperty("parameterization").GetString());
        Assert.True(settings.GetProperty("transparent").GetBoolean());
        Assert.True(settings.GetProperty("transparencyMap").GetBoolean());
    }

    [Fact]
    public void Priors_renders_several_channels_as_one_batch_and_measures_each_image()
    {
        var (code, output, error) = CliProcess.Run(_folder, "priors", "--layer", "layer1", "--channels", "0", "3", "--presets", "lucid", "maco",
            "--steps", "2", "--size", "32", "--out", "several.png");
        Assert.True(code == 0, error);
        Assert.Contains("| Maco | 1 |", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "several.json")));
        var rows = json.RootElement.GetProperty("settings").GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["Lucid", "Maco"], rows.Select(r => r.GetProperty("preset").GetString()));
        Assert.All(rows, r => Assert.Equal(2, r.GetProperty("perImage").GetArrayLength()));
    }

    [Fact]
    public void Every_json_the_command_line_writes_uses_camel_case_names()
    {
        var (code, _, error) = CliProcess.Run(_folder, "priors", "--layer", "layer1", "--channel", "0", "--presets", "none", "lucid",
            "--steps", "2", "--size", "32", "--out", "p.png");
        Assert.True(code == 0, error);
        var (layersCode, layers, layersError) = CliProcess.Run(_folder, "layers", "--json");
        Assert.True(layersCode == 0, layersError);
        var documents = Directory.GetFiles(_folder, "*.json").Select(File.ReadAllText).Append(layers).ToList();
        Assert.True(documents.Count >= 2);
        foreach (var text in documents)
        {
            using var json = JsonDocument.Parse(text);
            AssertCamelCase(json.RootElement, "$");
        }
    }

    static void AssertCamelCase(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Array)
            foreach (var (item, k) in element.EnumerateArray().Select((e, k) => (e, k))) AssertCamelCase(item, $"{path}[{k}]");
        if (element.ValueKind != JsonValueKind.Object) return;
        foreach (var property in element.EnumerateObject())
        {
            Assert.False(char.IsUpper(property.Name[0]), $"{path}.{property.Name} is not camelCase");
            AssertCamelCase(property.Value, $"{path}.{property.Name}");
        }
    }

    [Fact]
    public void Outputs_are_not_overwritten_without_force()
    {
        var output = Path.Combine(_folder, "v.png");
        string[] args = ["visualize", "--layer", "layer1", "--channel", "0", "--steps", "2", "--size", "64", "--out", output];
        Assert.Equal(0, CliProcess.Run(_folder, args).ExitCode);
        var before = File.ReadAllBytes(output);
        var (code, _, error) = CliProcess.Run(_folder, args);
        Assert.Equal(1, code);
        Assert.Contains("--force", error);
        Assert.Equal(before, File.ReadAllBytes(output));
        Assert.Equal(0, CliProcess.Run(_folder, [.. args, "--force"]).ExitCode);
    }
}
