using System.Diagnostics;
using ResearchKit.IO;
using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Diagnostics;

/// <summary>How the small classifier is trained.</summary>
/// <param name="Epochs">Passes over the training set.</param>
/// <param name="BatchSize">Images per Adam step.</param>
/// <param name="LearningRate">Adam's step size.</param>
/// <param name="Seed">Seeds the weight initialisation and the data order.</param>
/// <param name="Width">Channels of the first convolution; later stages have 2× and 4× as many.</param>
/// <param name="Threads">CPU threads for TorchSharp while training; null keeps the current setting.</param>
public sealed record TrainingSettings(int Epochs = 6, int BatchSize = 32, double LearningRate = 3e-3, int Seed = 0, int Width = 8, int? Threads = null);

/// <summary>One epoch's outcome.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Loss">Mean training cross-entropy over the epoch.</param>
/// <param name="TrainAccuracy">Accuracy on the training batches as they were seen (training mode).</param>
/// <param name="TestAccuracy">Accuracy on the test set after the epoch (evaluation mode).</param>
/// <param name="Elapsed">Time since training began.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, double Loss, double TrainAccuracy, double TestAccuracy, TimeSpan Elapsed);

/// <summary>
/// A small convolutional classifier in TorchSharp — four conv–batchnorm–ReLU blocks (the first strided, the next two
/// max-pooled), global average pooling and a linear layer — trained with Adam on the CPU, and its weights saved and loaded.
/// The network is a <see cref="SequentialModel"/> with stages <c>conv1</c>…<c>conv4</c>, <c>pool</c>, <c>logits</c>
/// (alias <c>logits</c>), so every probe in the kit reads its taps.
/// </summary>
public static class ClassifierTrainer
{
    /// <summary>The stage names, in order.</summary>
    public static IReadOnlyList<string> StageNames { get; } = ["conv1", "conv2", "conv3", "conv4", "pool", "logits"];

    /// <summary>
    /// A freshly initialised network for <paramref name="labels"/> (weights drawn from the torch RNG seeded with
    /// <paramref name="seed"/>). Input: RGB in [0,1] at any size of at least 8×8; <paramref name="imageSize"/> is the
    /// declared size.
    /// </summary>
    public static SequentialModel Build(IReadOnlyList<string> labels, int imageSize, int width = 8, int seed = 0)
    {
        if (labels.Count < 2) throw new InvalidSettingException($"a classifier needs at least two labels, got {labels.Count}", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        manual_seed(seed);
        // conv1 halves the resolution by its stride, conv2 and conv3 by max pooling.
        nn.Module<Tensor, Tensor> Block(long input, long output, int stride = 1, bool pool = false)
        {
            var conv = nn.Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
            return pool
                ? nn.Sequential(conv, nn.BatchNorm2d(output), new RedirectableRelu(), nn.MaxPool2d(2))
                : nn.Sequential(conv, nn.BatchNorm2d(output), new RedirectableRelu());
        }
        var model = new SequentialModel("dumbbell-lab classifier", [
            ("conv1", Block(3, width, stride: 2)),
            ("conv2", Block(width, 2 * width, pool: true)),
            ("conv3", Block(2 * width, 4 * width, pool: true)),
            ("conv4", Block(4 * width, 4 * width)),
            ("pool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())),
            ("logits", nn.Linear(4 * width, labels.Count)),
        ], imageSize, imageSize, normalization: InputNormalization.None);
        model.Labels = [.. labels];
        return model.WithAlias("logits", "logits");
    }

    /// <summary>
    /// Trains <paramref name="model"/> (from <see cref="Build"/>) on <paramref name="train"/>, reporting accuracy on
    /// <paramref name="test"/> after every epoch. Deterministic for a given seed and thread count: the data order comes
    /// from a <see cref="Random"/> seeded with <see cref="TrainingSettings.Seed"/>. Leaves the model in evaluation mode.
    /// </summary>
    public static IReadOnlyList<TrainingProgress> Train(SequentialModel model, ShapeSet train, ShapeSet test, TrainingSettings settings,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.BatchSize, 1);
        using var threads = TorchThreads.Use(settings.Threads);
        try
        {
            manual_seed(settings.Seed);
            var parameters = model.Stages.SelectMany(s => s.Stage.parameters()).ToList();
            using var optimizer = optim.Adam(parameters, settings.LearningRate);
            int batchesPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
            // One-cycle schedule (Smith & Topin 2019): warm up, then anneal; short runs end far more accurate.
            var schedule = optim.lr_scheduler.OneCycleLR(optimizer, settings.LearningRate, total_steps: settings.Epochs * batchesPerEpoch);
            var order = new Random(settings.Seed);
            var indices = Enumerable.Range(0, train.Count).ToArray();
            var history = new List<TrainingProgress>();
            var clock = Stopwatch.StartNew();
            for (int epoch = 1; epoch <= settings.Epochs; epoch++)
            {
                order.Shuffle(indices);
                SetTraining(model, true);
                double lossSum = 0;
                long correct = 0;
                for (int start = 0; start < indices.Length; start += settings.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    using var pass = model.Pass();
                    var batch = tensor(indices[start..Math.Min(start + settings.BatchSize, indices.Length)], dtype: int64);
                    var images = train.Images.index_select(0, batch);
                    var labels = train.Labels.index_select(0, batch);
                    optimizer.zero_grad();
                    var logits = pass.Forward(images);
                    var loss = F.cross_entropy(logits, labels);
                    loss.backward();
                    optimizer.step();
                    schedule.step();
                    lossSum += loss.item<float>() * batch.shape[0];
                    correct += (logits.argmax(1) == labels).sum().item<long>();
                }
                SetTraining(model, false);
                var report = new TrainingProgress(epoch, settings.Epochs, lossSum / train.Count, (double)correct / train.Count,
                    Accuracy(model, test), clock.Elapsed);
                history.Add(report);
                progress?.Report(report);
            }
            optimizer.zero_grad();
            return history;
        }
        finally
        {
            SetTraining(model, false);
        }
    }

    /// <summary>Fraction of <paramref name="set"/> the model classifies correctly (evaluation mode, no gradients).</summary>
    public static double Accuracy(Model model, ShapeSet set)
    {
        using var predicted = Predict(model, set.Images);
        using var right = predicted == set.Labels;
        return right.to(float64).mean().item<double>();
    }

    /// <summary>Predicted class per image (int64, [N]), in batches, without gradients.</summary>
    public static Tensor Predict(Model model, Tensor images)
    {
        using var probabilities = Probabilities(model, images);
        return probabilities.argmax(1);
    }

    /// <summary>Softmax class probabilities ([N, classes]), in batches, without gradients.</summary>
    public static Tensor Probabilities(Model model, Tensor images, int batchSize = 256)
    {
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var logits = model.Run(images.narrow(0, start, Math.Min(batchSize, images.shape[0] - start)), "logits");
            parts.Add(F.softmax(logits, 1).MoveToOuterDisposeScope());
        }
        var all = cat(parts, 0);
        foreach (var part in parts) part.Dispose();
        return all;
    }

    /// <summary>Writes the weights and batch-norm statistics of every stage to <paramref name="path"/> (atomically).</summary>
    public static void Save(SequentialModel model, string path) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            using var container = Container(model);
            container.save(writer);
        });

    /// <summary>
    /// Builds the network for <paramref name="labels"/> and <paramref name="width"/> and loads weights that
    /// <see cref="Save"/> wrote.
    /// </summary>
    /// <exception cref="ModelLoadException">The file is missing or was saved from a network of another shape.</exception>
    public static SequentialModel Load(string path, IReadOnlyList<string> labels, int imageSize, int width = 8)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"weights file '{path}' does not exist");
        var model = Build(labels, imageSize, width);
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            using var container = Container(model);
            container.load(reader);
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            model.Dispose();
            throw new ModelLoadException(
                $"weights file '{path}' does not fit a classifier with {labels.Count} classes and width {width}: {e.Message}", e);
        }
        foreach (var (_, stage) in model.Stages) stage.eval();
        return model;
    }

    static void SetTraining(SequentialModel model, bool training)
    {
        foreach (var (_, stage) in model.Stages) stage.train(training);
    }

    /// <summary>A module holding the stages under their names, so the saved state dictionary is keyed by stage.</summary>
    static StageContainer Container(SequentialModel model) => new(model.Stages);

    sealed class StageContainer : nn.Module
    {
        public StageContainer(IEnumerable<(string Name, nn.Module<Tensor, Tensor> Stage)> stages) : base("stages")
        {
            foreach (var (name, stage) in stages) register_module(name, stage);
        }

        // The stages belong to the model; the container only names them.
        protected override void Dispose(bool disposing) { }
    }
}
