using System.Globalization;
using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>
/// Where a render or a dream computes: <c>cpu</c>, <c>cuda</c> (the current GPU) or <c>cuda:N</c>.
/// <see cref="Parse"/> checks the spelling; <see cref="Resolve"/> checks that this TorchSharp build and machine have
/// the device. Results always come back to the CPU.
/// </summary>
public sealed record RenderDevice
{
    RenderDevice(DeviceType type, int index) => (Type, Index) = (type, index);

    /// <summary>The CPU, the default.</summary>
    public static RenderDevice Cpu { get; } = new(DeviceType.CPU, -1);

    /// <summary>A GPU: <paramref name="index"/>, or the current one for -1.</summary>
    public static RenderDevice Cuda(int index = -1) =>
        index >= -1 ? new(DeviceType.CUDA, index) : throw new InvalidSettingException("a GPU index is 0 or more (-1: the current GPU)", nameof(index), index);

    /// <summary>CPU or CUDA.</summary>
    public DeviceType Type { get; }

    /// <summary>The GPU's index; -1 for the current GPU and for the CPU.</summary>
    public int Index { get; }

    /// <summary>The spellings <see cref="Parse"/> accepts.</summary>
    public const string ValidNames = "cpu, cuda, cuda:N (N = 0, 1, ...)";

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive).</summary>
    /// <exception cref="UnknownDeviceException">Any other text; the message lists the valid spellings.</exception>
    public static RenderDevice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().ToLowerInvariant().Split(':');
        return parts switch
        {
            ["cpu"] => Cpu,
            ["cuda"] => Cuda(),
            ["cuda", var n] when int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int index) => Cuda(index),
            _ => throw new UnknownDeviceException(text, $"not a device; valid: {ValidNames}"),
        };
    }

    /// <summary>The device a TorchSharp device is (e.g. a model's <see cref="Models.Model.Device"/>).</summary>
    /// <exception cref="InvalidSettingException">Neither a CPU nor a CUDA device.</exception>
    public static RenderDevice Of(Device device) => device.type switch
    {
        DeviceType.CPU => Cpu,
        DeviceType.CUDA => Cuda(device.index),
        _ => throw new InvalidSettingException($"renders run on the CPU or a CUDA GPU, not on {device}", nameof(device)),
    };

    /// <summary>The TorchSharp device, once this build and machine are known to have it.</summary>
    /// <exception cref="DeviceUnavailableException">CUDA was asked for and TorchSharp has none, or not that many GPUs;
    /// the message says what this build has and what to install.</exception>
    public Device Resolve()
    {
        if (Type == DeviceType.CPU) return CPU;
        if (!cuda.is_available()) throw new DeviceUnavailableException(ToString(), CudaMissing());
        int count = cuda.device_count();
        if (Index >= count)
            throw new DeviceUnavailableException(ToString(), $"TorchSharp sees {count} GPU{(count == 1 ? "" : "s")} here (cuda:0..cuda:{count - 1})");
        return new Device(DeviceType.CUDA, Index);
    }

    /// <inheritdoc/>
    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";

    static string CudaMissing()
    {
        string version = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "of the same version";
        return HasCudaLibraries()
            ? "TorchSharp has its CUDA libraries but sees no GPU (torch.cuda.is_available() is false); check the NVIDIA driver (nvidia-smi) and CUDA_VISIBLE_DEVICES"
            : $"this TorchSharp build has no CUDA (TorchSharp-cpu); install TorchSharp-cuda-linux {version} (TorchSharp-cuda-windows on Windows) " +
              "in place of TorchSharp-cpu, as environment.md describes under \"A GPU build of TorchSharp\"";
    }

    // A CUDA build ships libtorch_cuda beside libtorch_cpu; its presence tells a CPU build from a machine without a GPU.
    static bool HasCudaLibraries()
    {
        var folders = new List<string?> { TorchRuntime.Report?.LibTorchFolder, Path.GetDirectoryName(typeof(torch).Assembly.Location) };
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            folders.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return folders.OfType<string>().Any(folder =>
            File.Exists(Path.Combine(folder, "libtorch_cuda.so")) || File.Exists(Path.Combine(folder, "torch_cuda.dll")));
    }
}

/// <summary>A device that cannot be used; <see cref="Reason"/> says why without repeating the request.</summary>
public abstract class DeviceException(string requested, string reason) : UserErrorException($"device '{requested}': {reason}")
{
    /// <summary>The device as it was asked for, e.g. <c>cuda</c>.</summary>
    public string Requested { get; } = requested;

    /// <summary>Why it cannot be used, and what would help.</summary>
    public string Reason { get; } = reason;
}

/// <summary>The text names no device.</summary>
public sealed class UnknownDeviceException(string requested, string reason) : DeviceException(requested, reason);

/// <summary>The device is spelled right but this TorchSharp build or machine does not have it.</summary>
public sealed class DeviceUnavailableException(string requested, string reason) : DeviceException(requested, reason);
