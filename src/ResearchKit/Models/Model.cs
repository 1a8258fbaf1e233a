using ResearchKit.Models.Execution;
using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>
/// A trained image network whose intermediate tensors (taps) can be read and differentiated through.
/// Images go in with values in [0,1], [N,C,H,W] with C = <see cref="InputChannels"/> (RGB for the usual 3); the model
/// applies its own input convention (<see cref="Normalization"/>).
/// </summary>
public abstract class Model : IDisposable
{
    readonly Dictionary<string, string> _aliases = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<(long, long), IReadOnlyList<TapInfo>> _tapsBySize = [];
    Preprocessing _input;

    /// <summary>Creates a model with the given name, declared input size and channels, and preprocessing.</summary>
    protected Model(string name, int inputHeight, int inputWidth, Preprocessing modelPreprocessing, InputNormalization normalization,
        int inputChannels = 3)
    {
        TorchRuntime.EnsureLoaded();
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        Name = name;
        InputHeight = inputHeight;
        InputWidth = inputWidth;
        InputChannels = inputChannels;
        ModelPreprocessing = modelPreprocessing;
        _input = Select(normalization);
        Normalization = normalization;
    }

    /// <summary>Display name (file name or zoo name).</summary>
    public string Name { get; }

    /// <summary>Input height the model was trained on (other sizes work where the ops allow).</summary>
    public int InputHeight { get; }

    /// <summary>Input width the model was trained on.</summary>
    public int InputWidth { get; }

    /// <summary>Channels of the input image: 3 (RGB) for most networks, 1 for grayscale ones, any other count for
    /// multispectral ones.</summary>
    public int InputChannels { get; }

    /// <summary>The preprocessing the model itself expects (used when <see cref="Normalization"/> is <see cref="InputNormalization.Model"/>).</summary>
    public Preprocessing ModelPreprocessing { get; }

    /// <summary>How [0,1] RGB pixels become network input.</summary>
    public InputNormalization Normalization { get; private set; }

    /// <summary>How the model's convolutions run (<see cref="ExecutionMode.Exact"/> unless changed).</summary>
    public ExecutionMode Execution { get; private set; } = ExecutionMode.Exact;

    /// <summary>What the last <see cref="UseExecution"/> checked and decided, one line per convolution shape.</summary>
    public IReadOnlyList<string> ExecutionReport { get; private set; } = [];

    /// <summary>
    /// Runs the model's convolutions as <paramref name="mode"/> asks, where that is known to be correct here; returns the
    /// mode in effect. Models that cannot audit their convolutions stay <see cref="ExecutionMode.Exact"/>. bfloat16 on a
    /// CPU without bfloat16 arithmetic (<see cref="Processor.HasNativeBFloat16"/>) would be emulated, many times slower
    /// than float32, so <see cref="ExecutionMode.Fast"/> runs instead unless <paramref name="evenIfEmulated"/> (for
    /// checking bfloat16's numbers on such a machine).
    /// </summary>
    public ExecutionMode UseExecution(ExecutionMode mode, bool evenIfEmulated = false)
    {
        string? refusal = null;
        if (Device.type == DeviceType.CPU && !evenIfEmulated) (mode, refusal) = mode.OnCpu(Processor.HasNativeBFloat16, Processor.Name);
        // Preparing costs an import's worth of work; asking again for the mode in effect changes nothing.
        if (mode != Execution || mode == ExecutionMode.Exact)
        {
            (Execution, ExecutionReport) = Device.type == DeviceType.CPU || mode == ExecutionMode.Exact ? PrepareExecution(mode)
                : (ExecutionMode.Exact, [$"oneDNN runs on the CPU only; on {Device} the device's own kernels run"]);
            _tapsBySize.Clear();
        }
        // The report's last line says why the mode granted is not the one asked for.
        if (refusal is not null) ExecutionReport = [.. ExecutionReport.Where(line => line != refusal), refusal];
        return Execution;
    }

    /// <summary>
    /// Prepares weights for <paramref name="mode"/> after auditing the convolutions; returns the mode granted (which
    /// may be <see cref="ExecutionMode.Exact"/>) and what was found. The default grants only the exact mode.
    /// </summary>
    protected virtual (ExecutionMode Granted, IReadOnlyList<string> Report) PrepareExecution(ExecutionMode mode) =>
        mode == ExecutionMode.Exact ? (mode, [])
        : (ExecutionMode.Exact, [$"model '{Name}' cannot audit its convolutions, so it runs on libtorch's reference kernels"]);

    /// <summary>
    /// Selects the kernels the model's <see cref="Execution"/> needs; held by a <see cref="ModelPass"/> from the forward
    /// pass to the end of the backward pass. Scopes of different threads take turns (see <see cref="OneDnn"/>).
    /// </summary>
    internal IDisposable Kernels() => OneDnn.Use(Execution.OneDnn);

    /// <summary>
    /// Opens a differentiable pass: run the network through the pass, then call <c>backward()</c> before disposing it,
    /// so the backward pass uses the same kernels as the forward one.
    /// <code>using (var pass = model.Pass()) pass.Run(x, "layer3").mean().backward();</code>
    /// </summary>
    public ModelPass Pass() => new(this);

    /// <summary>Class labels for classifiers (index → label); empty when unknown.</summary>
    public IReadOnlyList<string> Labels { get; set; } = [];

    /// <summary>Raw names of every tap, in computation order.</summary>
    public abstract IReadOnlyList<string> TapNames { get; }

    /// <summary>The raw name of the network's final output.</summary>
    public abstract string OutputTap { get; }

    /// <summary>
    /// Whether the network takes its declared input size only: a vision transformer's position embeddings fix its number
    /// of patches (an imported network with a tap laid out as tokens says so). Renders then resize what the transforms
    /// make back to that size. False unless a model class knows better.
    /// </summary>
    public virtual bool TakesOneSize => false;

    /// <summary>Friendly aliases (e.g. <c>layer3</c>) and the raw tap each resolves to.</summary>
    public IReadOnlyDictionary<string, string> Aliases => _aliases;

    /// <summary>Changes how pixels become network input.</summary>
    public void UseNormalization(InputNormalization normalization)
    {
        if (!ReferenceEquals(_input, ModelPreprocessing)) _input.Dispose();
        _input = Select(normalization);
        if (!ReferenceEquals(_input, ModelPreprocessing)) _input.To(Device);
        Normalization = normalization;
    }

    /// <summary>Where the weights live and the network computes: the CPU until <see cref="To"/> moves them.</summary>
    public Device Device { get; private set; } = CPU;

    /// <summary>
    /// Moves the weights, constants and input preprocessing to <paramref name="device"/> in place (as a TorchSharp
    /// module's <c>to</c> does) and returns this model; later runs compute there.
    /// </summary>
    /// <exception cref="NotSupportedException">A model class that does not implement <see cref="MoveTo"/>.</exception>
    public Model To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (Devices.Same(device, Device)) return this;
        // oneDNN is a CPU library: elsewhere the device's own kernels run, on the original weights.
        if (device.type != DeviceType.CPU) UseExecution(ExecutionMode.Exact);
        MoveTo(device);
        ModelPreprocessing.To(device);
        if (!ReferenceEquals(_input, ModelPreprocessing)) _input.To(device);
        Device = device;
        return this;
    }

    /// <summary>Moves the subclass's weights and constants to <paramref name="device"/>.</summary>
    protected virtual void MoveTo(Device device) =>
        throw new NotSupportedException($"model '{Name}' ({GetType().Name}) cannot move to {device}: it does not override MoveTo");

    /// <summary>The active preprocessing, in words.</summary>
    public string NormalizationDescription => _input.Description;

    Preprocessing Select(InputNormalization n) => n switch
    {
        InputNormalization.Model => ModelPreprocessing,
        InputNormalization.ImageNet when InputChannels != 3 => throw new InvalidSettingException($"ImageNet normalization is for RGB input, but model '{Name}' takes {InputChannels} channel(s); use normalization none"),
        InputNormalization.ImageNet => Preprocessing.ImageNet(),
        _ => Preprocessing.Identity(),
    };

    /// <summary>Adds an alias; later aliases for the same tap are listed after earlier ones.</summary>
    protected void AddAlias(string alias, string rawName)
    {
        _aliases[alias] = rawName;
        _tapsBySize.Clear();
    }

    /// <summary>Resolves a raw tap name or an alias (case-insensitive) to the raw name.</summary>
    /// <exception cref="UnknownTapException">No such tap; the message lists the aliases and some raw names.</exception>
    public string ResolveTap(string nameOrAlias)
    {
        if (TapNames.Contains(nameOrAlias)) return nameOrAlias;
        if (_aliases.TryGetValue(nameOrAlias, out var raw)) return raw;
        var exact = TapNames.FirstOrDefault(t => string.Equals(t, nameOrAlias, StringComparison.OrdinalIgnoreCase));
        if (exact is not null) return exact;
        var aliases = _aliases.Count > 0 ? $"aliases: {string.Join(", ", _aliases.Keys)}; " : "";
        throw new UnknownTapException(
            $"model '{Name}' has no layer '{nameOrAlias}'; {aliases}{TapNames.Count} raw taps, e.g. {string.Join(", ", TapNames.Take(8))}" +
            " (run `researchkit layers` to list them all)");
    }

    /// <summary>
    /// The model's numbered blocks in order: its <c>layer1</c>, <c>layer2</c>, ... aliases (ResNet's stages), the layers
    /// a block-by-block dream or gallery walks through; empty when the model has none.
    /// </summary>
    public IReadOnlyList<string> NumberedLayers() =>
        [.. _aliases.Keys
            .Where(k => k.Length > 5 && k.StartsWith("layer", StringComparison.OrdinalIgnoreCase) && k[5..].All(char.IsAsciiDigit))
            .OrderBy(k => int.Parse(k[5..], System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Aliases that resolve to <paramref name="rawName"/>.</summary>
    public IReadOnlyList<string> AliasesOf(string rawName) =>
        _aliases.Where(a => a.Value == rawName).Select(a => a.Key).OrderBy(a => a.Length).ThenBy(a => a, StringComparer.Ordinal).ToList();

    /// <summary>The operator that produces a raw tap.</summary>
    public abstract string OpOf(string rawName);

    /// <summary>Lists every tap with its shape for one image of the given size (default: the declared input size).</summary>
    public IReadOnlyList<TapInfo> Taps(int? height = null, int? width = null)
    {
        long h = height ?? InputHeight, w = width ?? InputWidth;
        if (_tapsBySize.TryGetValue((h, w), out var cached)) return cached;
        using var scope = NewDisposeScope();
        var shapes = KnownShapes(h, w);
        if (shapes is null)
        {
            using var noGrad = no_grad();
            using var kernels = Kernels();
            shapes = RunPreprocessed(zeros(1, InputChannels, h, w, device: Device), TapNames.ToHashSet()).ToDictionary(o => o.Key, o => o.Value.shape);
        }
        var taps = TapNames.Where(shapes.ContainsKey)
            .Select(t => new TapInfo(t, AliasesOf(t), OpOf(t), shapes[t].ToArray(), ActivationLayout.Of(shapes[t], h, w)))
            .ToList();
        return _tapsBySize[(h, w)] = taps;
    }

    /// <summary>Every value's shape for one image of the given size when the model knows it without running, else null.</summary>
    protected virtual IReadOnlyDictionary<string, long[]>? KnownShapes(long height, long width) => null;

    /// <summary>The tap named <paramref name="nameOrAlias"/> at the given input size.</summary>
    public TapInfo Tap(string nameOrAlias, int? height = null, int? width = null)
    {
        var raw = ResolveTap(nameOrAlias);
        return Taps(height, width).First(t => t.Name == raw);
    }

    /// <summary>Checks that <paramref name="channel"/> exists at <paramref name="nameOrAlias"/>.</summary>
    /// <exception cref="ChannelOutOfRangeException">The message names the layer and its channel range.</exception>
    public void CheckChannel(string nameOrAlias, int channel)
    {
        var tap = Tap(nameOrAlias);
        if (channel < 0 || channel >= tap.Channels)
            throw new ChannelOutOfRangeException(
                $"layer '{nameOrAlias}' of model '{Name}' has channels 0..{tap.Channels - 1}; channel {channel} does not exist");
    }

    /// <summary>Converts images in [0,1] ([N,C,H,W]) to network input with the active normalization.</summary>
    public Tensor Normalize(Tensor rgb) => _input.Apply(rgb);

    /// <summary>
    /// Runs the network on images in [0,1] ([N,C,H,W], C = <see cref="InputChannels"/>) and returns the requested taps
    /// (by raw name or alias, keyed as requested), without gradients: for gradients, run it through a <see cref="Pass"/>.
    /// Only the part of the network the taps depend on is computed. Images on another device are moved to the model's
    /// <see cref="Device"/>, where the taps are.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(Tensor images, params IEnumerable<string> taps)
    {
        using var noGrad = no_grad();
        using var kernels = Kernels();
        return RunTaps(images, taps);
    }

    /// <summary>
    /// Runs the network on <paramref name="input"/> as it is, without <see cref="Normalization"/>: a tensor already in
    /// the network's own input convention, e.g. one saved from PyTorch to compare with. Otherwise as <see cref="Run(Tensor, IEnumerable{string})"/>.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> RunNetworkInput(Tensor input, params IEnumerable<string> taps)
    {
        using var noGrad = no_grad();
        using var kernels = Kernels();
        return RunAsIs(input, taps);
    }

    /// <summary>Runs the network as far as one tap and returns it, without gradients.</summary>
    public Tensor Run(Tensor images, string tap) => Run(images, [tap])[tap];

    /// <summary>The network's final output for images in [0,1], without gradients.</summary>
    public Tensor Forward(Tensor images) => Run(images, OutputTap);

    internal IReadOnlyDictionary<string, Tensor> RunTaps(Tensor images, IEnumerable<string> taps) => RunAsIs(Normalize(images.to(Device)), taps);

    IReadOnlyDictionary<string, Tensor> RunAsIs(Tensor input, IEnumerable<string> taps)
    {
        var requested = taps.Distinct().ToList();
        var raw = requested.ToDictionary(t => t, ResolveTap);
        var rawTaps = raw.Values.ToHashSet();
        input = input.to(Device);
        var outputs = _channelsRead is { } read && read.Keys.Any(rawTaps.Contains)
            ? RunPreprocessed(input, rawTaps, read.Where(r => rawTaps.Contains(r.Key)).ToDictionary())
            : RunPreprocessed(input, rawTaps);
        return requested.ToDictionary(t => t, t => outputs[raw[t]]);
    }

    internal IReadOnlyDictionary<string, Tensor> RunTaps(Tensor images, IEnumerable<string> taps, IReadOnlyDictionary<string, IReadOnlyList<int>> channelsRead)
    {
        ArgumentNullException.ThrowIfNull(channelsRead);
        var requested = taps.Distinct().ToList();
        var raw = requested.ToDictionary(t => t, ResolveTap);
        var channels = new Dictionary<string, long[]>();
        foreach (var (tap, read) in channelsRead)
        {
            if (!raw.TryGetValue(tap, out var name))
                throw new InvalidSettingException($"channels are given for '{tap}', which is not among the taps asked for ({string.Join(", ", requested)})", nameof(channelsRead));
            foreach (var c in read) CheckChannel(tap, c);
            // Two names for one tap: the union of what each reads.
            channels[name] = [.. (channels.GetValueOrDefault(name) ?? []).Concat(read.Select(c => (long)c)).Distinct().Order()];
        }
        var outputs = RunPreprocessed(Normalize(images.to(Device)), raw.Values.ToHashSet(), channels);
        return requested.ToDictionary(t => t, t => outputs[raw[t]]);
    }

    Dictionary<string, long[]>? _channelsRead;

    /// <summary>
    /// Until the returned scope is disposed, every run that returns <paramref name="tap"/> computes only
    /// <paramref name="channels"/> of it, as <see cref="ModelPass.Run(Tensor, IEnumerable{string}, IReadOnlyDictionary{string, IReadOnlyList{int}})"/>
    /// does (the other channels read as zeros): for a loop that cannot pass the channels itself, around an objective
    /// that reads only those. Scopes nest; the inner one holds until disposed.
    /// </summary>
    public IDisposable ReadingOnly(string tap, params int[] channels)
    {
        foreach (var c in channels) CheckChannel(tap, c);
        var previous = _channelsRead;
        _channelsRead = new Dictionary<string, long[]>(previous ?? []) { [ResolveTap(tap)] = [.. channels.Select(c => (long)c).Distinct().Order()] };
        return new Restore(() => _channelsRead = previous);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            restore();
        }
    }

    /// <summary>
    /// Mean activation of every channel of <paramref name="tap"/> for one image ([1,C,H,W] or [C,H,W], values in [0,1]),
    /// averaged over positions (over the patches of a transformer's tokens): which channels fire, and how strongly.
    /// </summary>
    public float[] ChannelMeans(Tensor image, string tap)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        return ActivationLayout.ChannelMeans(Run(batch, tap), batch);
    }

    /// <summary>Runs the network on already-normalized input, computing only what <paramref name="taps"/> (raw names) need.</summary>
    protected abstract IReadOnlyDictionary<string, Tensor> RunPreprocessed(Tensor input, IReadOnlySet<string> taps);

    /// <summary>
    /// Runs the network on already-normalized input for a caller that reads only <paramref name="channels"/> of some
    /// taps (raw names); the channels not read may come back as zeros. The default computes everything.
    /// </summary>
    protected virtual IReadOnlyDictionary<string, Tensor> RunPreprocessed(Tensor input, IReadOnlySet<string> taps, IReadOnlyDictionary<string, long[]> channels) =>
        RunPreprocessed(input, taps);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the model's tensors.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        if (!ReferenceEquals(_input, ModelPreprocessing)) _input.Dispose();
        ModelPreprocessing.Dispose();
    }
}
