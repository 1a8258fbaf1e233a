using ResearchKit.TestSupport;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

/// <summary>
/// Moving models and parameterizations, checked without a GPU: libtorch's meta device holds shapes but no data, so a
/// tensor left behind on the CPU shows up as a device mismatch, and a value that should have stayed on the CPU as
/// "Cannot copy out of meta tensor".
/// </summary>
public sealed class ModelDeviceTests : IDisposable
{
    static readonly Device Meta = new(DeviceType.META);
    readonly string _file = Path.Combine(Path.GetTempPath(), $"researchkit-device-{Guid.NewGuid():N}.onnx");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void A_sequential_model_moves_every_stage_and_moving_again_is_a_no_op()
    {
        using var model = TinyModels.Smooth();
        Assert.Equal(DeviceType.CPU, model.Device.type);
        Assert.Same(model, model.To(Meta));
        Assert.Same(model, model.To(new Device(DeviceType.META)));
        Assert.Equal(DeviceType.META, model.Device.type);
        Assert.All(model.Stages.SelectMany(s => s.Stage.parameters()), p => Assert.Equal(DeviceType.META, p.device_type));
    }

    [Fact]
    public void An_onnx_model_moves_its_weights_float_constants_and_preprocessing_and_keeps_integer_shapes_on_the_cpu()
    {
        // Ops with meta kernels only: Mul by a Constant node, Reshape by an int64 initializer, Gemm, Sigmoid.
        var g = new OnnxGraphBuilder(seed: 1);
        var x = g.Input("x", -1, 3, 8, 8);
        var y = x.Mul(g.Constant([0.5f, 1f, 2f], 1, 3, 1, 1)).Reshape(0, -1).Gemm(4).Sigmoid().Named("y");
        g.Output(y).Save(_file);
        using var model = OnnxModel.Load(_file, InputNormalization.ImageNet);
        using var onCpu = model.Run(zeros(1, 3, 8, 8), "y");

        model.To(Meta);
        using var scope = NewDisposeScope();
        var fromCpu = model.Run(zeros(1, 3, 8, 8), "y");            // the input moves to the model
        var onMeta = model.Run(zeros([2, 3, 8, 8], device: Meta), "y");
        Assert.Equal(DeviceType.META, fromCpu.device_type);
        Assert.Equal([2, 4], onMeta.shape);
        Assert.Equal(onCpu.shape, fromCpu.shape);
    }

    [Fact]
    public void Parameterizations_move_as_trainable_leaves_and_start_on_the_cpu()
    {
        using var photo = TinyModels.Image(seed: 1, batch: 1, size: 12);
        Parameterization[] all =
        [
            Parameterization.Pixel(12, 12, batch: 2, seed: 3),
            Parameterization.Pixel(12, 12, range: PixelRange.Clamp),
            Parameterization.Fourier(12, 12, batch: 2, seed: 3),
            Parameterization.Cppn(12, 12, layers: 2, hidden: 4),
            Parameterization.FromImage(photo),
            Fourier.FromImage(photo),
        ];
        foreach (var p in all)
            using (p)
            {
                Assert.Equal(DeviceType.CPU, p.Device.type);
                int count = p.Parameters.Count;
                Assert.Same(p, p.To(Meta));
                Assert.Equal(DeviceType.META, p.Device.type);
                Assert.Equal(count, p.Parameters.Count);
                Assert.All(p.Parameters, t =>
                {
                    Assert.Equal(DeviceType.META, t.device_type);
                    Assert.True(t.is_leaf && t.requires_grad);
                });
                if (p is IPixelImage pixels) Assert.Equal(DeviceType.META, pixels.Neutral.device_type);
                new Adam(0.05).Create(p.Parameters).Dispose();
            }
    }

    [Fact]
    public void Moving_to_where_a_parameterization_is_keeps_its_tensors()
    {
        using var p = Parameterization.Fourier(8, 8, seed: 2);
        var before = p.Parameters[0];
        Assert.Same(p, p.To(CPU));
        Assert.Same(before, p.Parameters[0]);
    }
}
