using System.Text.Json;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Priors;
using ResearchKit.Rendering;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

public sealed class RenderDeviceTests : IDisposable
{
    readonly SequentialModel _model = TinyFloatModel();
    readonly string _folder = Directory.CreateTempSubdirectory("rk-device-").FullName;

    public void Dispose()
    {
        _model.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    static SequentialModel TinyFloatModel()
    {
        manual_seed(5);
        return new SequentialModel("tiny32", [
            ("a", nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.ReLU())),
            ("b", nn.Sequential(nn.Conv2d(8, 8, 3, stride: 2, padding: 1), nn.ReLU())),
        ], 32, 32);
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("CPU", "cpu")]
    [InlineData(" cuda ", "cuda")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("Cuda:12", "cuda:12")]
    public void Names_parse_and_print_back(string text, string name) =>
        Assert.Equal(name, RenderDevice.Parse(text).ToString());

    [Fact]
    public void Devices_compare_by_type_and_index()
    {
        Assert.Equal(RenderDevice.Cuda(1), RenderDevice.Parse("cuda:1"));
        Assert.NotEqual(RenderDevice.Cuda(), RenderDevice.Parse("cuda:0"));
        Assert.Equal(RenderDevice.Cpu, RenderDevice.Of(CPU));
        Assert.Equal(RenderDevice.Cuda(2), RenderDevice.Of(new Device(DeviceType.CUDA, 2)));
        Assert.Throws<InvalidSettingException>(() => RenderDevice.Of(new Device(DeviceType.META)));
        Assert.Equal(DeviceType.CPU, RenderDevice.Cpu.Resolve().type);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("meta")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cpu:0")]
    [InlineData("")]
    public void Unknown_names_are_refused_listing_the_valid_ones(string text)
    {
        var e = Assert.Throws<UnknownDeviceException>(() => RenderDevice.Parse(text));
        Assert.IsAssignableFrom<UserErrorException>(e);
        Assert.Equal(text, e.Requested);
        Assert.Equal($"device '{text}': not a device; valid: cpu, cuda, cuda:N (N = 0, 1, ...)", e.Message);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void Cuda_on_this_cpu_build_is_refused_naming_the_request_and_the_build(string text)
    {
        Assert.False(cuda.is_available(), "the tests reference TorchSharp-cpu, which has no CUDA");
        var e = Assert.Throws<DeviceUnavailableException>(() => RenderDevice.Parse(text).Resolve());
        Assert.Equal(text, e.Requested);
        Assert.StartsWith($"device '{text}': this TorchSharp build has no CUDA (TorchSharp-cpu); install TorchSharp-cuda-linux 0.107.0", e.Message);
        Assert.Contains("A GPU build of TorchSharp", e.Reason);
    }

    [Fact]
    public void A_plan_runs_where_its_model_is_unless_told_and_a_missing_device_fails_before_anything_moves()
    {
        var plan = Render.Plan(_model, "b:2").Size(32).Steps(2);
        Assert.Null(plan.Device);
        using (var result = plan.Run()) Assert.Equal("cpu", result.Provenance.Device);
        Assert.Equal(RenderDevice.Cuda(), plan.OnDevice("cuda").Device);
        Assert.Throws<UnknownDeviceException>(() => plan.OnDevice("gpu"));
        Assert.Throws<DeviceUnavailableException>(() => plan.OnDevice("cuda").Run());
        Assert.Equal(DeviceType.CPU, _model.Device.type);
    }

    [Fact]
    public void The_device_is_recorded_in_the_settings_and_the_sidecar()
    {
        using var result = Render.Plan(_model, "b:2").Size(32).Steps(2).OnDevice(RenderDevice.Cpu).Run();
        Assert.Equal("cpu", result.Provenance.Device);
        string path = Path.Combine(_folder, "r.png");
        result.Save(path);
        using var json = JsonDocument.Parse(File.ReadAllText(Sidecar.PathFor(path)));
        Assert.Equal("cpu", json.RootElement.GetProperty("provenance").GetProperty("device").GetString());
    }

    // The device path on the CPU (resolve, move the model and the parameters, bring the images back) must not change a
    // single bit of a seeded render, under every preset's parameterization, transforms, priors and optimizer.
    [Fact]
    public void On_the_cpu_every_preset_renders_the_same_bytes_as_without_a_device()
    {
        foreach (var preset in PriorPresets.All)
        {
            var plan = Render.Plan(_model, Objective.Channel("b", 2, batch: 0) + Objective.Channel("b", 5, batch: 1))
                .WithPreset(preset).Size(32).Batch(2).Steps(6).Seed(9);
            using var without = plan.Run();
            using var with = plan.OnDevice("cpu").Run();
            Assert.Equal(DeviceType.CPU, with.Images.device_type);
            Assert.True(without.Images.eq(with.Images).all().item<bool>(), $"{preset.Name}: the images differ");
            Assert.Equal(without.History.Objective, with.History.Objective);
        }
    }
}
