using System.Text.Json;
using ResearchKit.Imaging;

namespace ResearchKit.Tests.Cli;

public sealed class DeviceCliTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-device-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string[] Command(string name, string output) => name switch
    {
        "atlas" => ["atlas", "--layer", "layer1", "--channels", "0", "--out", output],
        "visualize" => ["visualize", "--layer", "layer1", "--channel", "0", "--out", output],
        _ => ["dream", SampleImages.Path("chelsea"), "--out", output],
    };

    [Theory]
    [InlineData("atlas", "cuda", "this TorchSharp build has no CUDA (TorchSharp-cpu); install TorchSharp-cuda-linux")]
    [InlineData("visualize", "cuda:1", "this TorchSharp build has no CUDA (TorchSharp-cpu); install TorchSharp-cuda-linux")]
    [InlineData("dream", "cuda", "this TorchSharp build has no CUDA (TorchSharp-cpu); install TorchSharp-cuda-linux")]
    [InlineData("atlas", "gpu", "not a device; valid: cpu, cuda, cuda:N")]
    [InlineData("dream", "cuda:one", "not a device; valid: cpu, cuda, cuda:N")]
    public void A_device_this_build_lacks_is_one_clear_line_and_nothing_is_written(string command, string device, string reason)
    {
        string output = Path.Combine(_folder, command == "atlas" ? "atlas" : "out.png");
        var (code, _, error) = CliProcess.Run(_folder, [.. Command(command, output), "--device", device]);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: --device {device}: {reason}", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Path.Exists(output));
    }

    [Fact]
    public void Visualize_on_the_cpu_device_writes_the_bytes_it_writes_without_the_option()
    {
        string without = Path.Combine(_folder, "without.png"), with = Path.Combine(_folder, "with.png");
        string[] render = ["visualize", "--layer", "layer2", "--channel", "3", "--size", "48", "--steps", "4", "--seed", "2"];
        var (code, _, error) = CliProcess.Run(_folder, [.. render, "--out", without]);
        Assert.True(code == 0, error);
        (code, _, error) = CliProcess.Run(_folder, [.. render, "--device", "cpu", "--out", with]);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(without), File.ReadAllBytes(with));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(with, ".json")));
        Assert.Equal("cpu", json.RootElement.GetProperty("provenance").GetProperty("device").GetString());
    }
}
