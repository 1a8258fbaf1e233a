using ResearchKit.Diagnostics;
using ResearchKit.Models;
using ResearchKit.Tests.Imaging;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Diagnostics;

// One collection: the diagnostics tests run one after another instead of competing for the two cores.
[Collection("Diagnostics")]
public class ClassifierTrainerTests
{
    [Fact]
    public void The_network_is_a_sequential_model_with_named_stages_labels_and_a_logits_alias()
    {
        using var model = ClassifierTrainer.Build(SyntheticShapes.ClassNames, 48, width: 8);
        Assert.Equal(ClassifierTrainer.StageNames, model.TapNames);
        Assert.Equal(SyntheticShapes.ClassNames, model.Labels);
        Assert.Equal([1, 5], model.Tap("logits").Shape);
        Assert.Equal([1, 8, 24, 24], model.Tap("conv1").Shape);
        Assert.Equal([1, 32], model.Tap("pool").Shape);
    }

    [Fact]
    public void Training_lowers_the_loss_and_saved_weights_load_back_exactly()
    {
        using var folder = new TempFolder();
        var shapes = new SyntheticShapes(32, seed: 8);
        using var train = shapes.TrainingSet(40, 0.9);
        using var test = shapes.TestSet(10, 0.9);
        using var model = ClassifierTrainer.Build(SyntheticShapes.ClassNames, 32, seed: 8);
        var history = ClassifierTrainer.Train(model, train, test, new TrainingSettings(Epochs: 3, LearningRate: 0.01, Seed: 8, Threads: 1));
        Assert.Equal([1, 2, 3], history.Select(h => h.Epoch));
        Assert.True(history[^1].Loss < history[0].Loss, $"loss went from {history[0].Loss} to {history[^1].Loss}");

        string path = folder.File("classifier.bin");
        ClassifierTrainer.Save(model, path);
        using var loaded = ClassifierTrainer.Load(path, SyntheticShapes.ClassNames, 32);
        using var expected = ClassifierTrainer.Probabilities(model, test.Images);
        using var actual = ClassifierTrainer.Probabilities(loaded, test.Images);
        Assert.True(expected.equal(actual).all().item<bool>(), "a loaded model must answer exactly as the saved one (weights and batch-norm statistics)");

        var wrongShape = Assert.Throws<ModelLoadException>(() => ClassifierTrainer.Load(path, SyntheticShapes.ClassNames, 32, width: 16));
        Assert.Contains("width 16", wrongShape.Message);
        Assert.Throws<ModelLoadException>(() => ClassifierTrainer.Load(folder.File("missing.bin"), SyntheticShapes.ClassNames, 32));
    }
}
