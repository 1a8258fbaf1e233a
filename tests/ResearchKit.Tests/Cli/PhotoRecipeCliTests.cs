using System.Text.Json;
using ResearchKit.Imaging;

namespace ResearchKit.Tests.Cli;

public sealed class PhotoRecipeCliTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("invert", "layer1", "inversion layer1 of chelsea", "MahendranVedaldi2015")]
    [InlineData("caricature", "layer2", "caricature layer2 of chelsea (cosine^2)", "Lucid")]
    public void A_photo_recipe_renders_at_the_size_asked_for_with_its_preset_and_a_sidecar(string command, string layer, string objective, string preset)
    {
        var output = Path.Combine(_folder, $"{command}.png");
        string[] args = [command, SampleImages.Path("chelsea"), "--layer", layer, "--steps", "3", "--width", "64", "--height", "48", "--out", output,
            .. command == "caricature" ? new[] { "--cosine-power", "2" } : []];
        var (code, printed, error) = CliProcess.Run(_folder, args);
        Assert.True(code == 0, error);
        Assert.Contains($"{objective}: ", printed);
        using (var image = ImageIO.Load(output)) Assert.Equal([1, 3, 48, 64], image.shape);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(output, ".json")));
        var settings = json.RootElement.GetProperty("settings");
        Assert.Equal(objective, settings.GetProperty("objective").GetString());
        Assert.Equal(preset, settings.GetProperty("preset").GetString());
        Assert.Equal(3, settings.GetProperty("steps").GetInt32());

        (code, _, error) = CliProcess.Run(_folder, args);
        Assert.Equal(1, code);
        Assert.Contains("--force", error);
    }

    [Fact]
    public void A_missing_layer_or_photo_is_one_clear_line()
    {
        var (code, _, error) = CliProcess.Run(_folder, "invert", SampleImages.Path("chelsea"), "--out", "i.png");
        Assert.Equal(1, code);
        Assert.Contains("--layer", error);
        (code, _, error) = CliProcess.Run(_folder, "caricature", "no-such.jpg", "--layer", "layer2", "--out", "c.png");
        Assert.Equal(1, code);
        Assert.Contains("no-such.jpg", error);
        Assert.DoesNotContain("   at ", error);
    }
}
