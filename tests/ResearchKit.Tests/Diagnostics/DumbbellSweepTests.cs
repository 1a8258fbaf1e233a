using System.Text.Json;
using ResearchKit.Diagnostics;
using ResearchKit.Tests.Imaging;
using ResearchKit.Tests.Reliability;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Diagnostics;

/// <summary>
/// Sweeps at a tiny setting (32×32, 8 images per class, 1 epoch) with a visualizer that draws an arm for "dumbbell"
/// and grey for every other class: it counts its calls, and gives every model a visualization margin above 0.02.
/// </summary>
[Collection("Diagnostics")]
public class DumbbellSweepTests
{
    static readonly DumbbellLabSettings Tiny = new(TrainImagesPerClass: 8, Epochs: 1, ImageSize: 32, TestImagesPerClass: 4, ProbeImages: 4,
        BatchSize: 16, Threads: 1);

    sealed class CountingVisualizer(string description = "an arm for dumbbell, grey otherwise") : IClassVisualizer
    {
        readonly SyntheticShapes _arms = new(32, seed: 9);
        public int Calls { get; private set; }
        public string Description => description;

        public Tensor Visualize(ResearchKit.Models.Model model, int classIndex, int seed, CancellationToken cancellationToken = default)
        {
            Calls++;
            if (classIndex != SyntheticShapes.Dumbbell) return full([1, 3, 32, 32], 0.5f);
            using var set = _arms.ArmOnly(1);
            return set.Images.clone();
        }
    }

    static DumbbellRunSummary Run(double margin, double drop) => new(0.9, 0.95, 0.95 - drop, 0.1, margin + 0.01, "ring", 0.01);

    [Fact]
    public void The_rates_count_the_verdicts_of_the_rows()
    {
        // Default thresholds: margin >= 0.05 and drop >= 0.25.
        var report = new DumbbellSweepReport(new DumbbellLabSettings(), "hand-made", [
            new(0, Planted: Run(0.30, 0.50), Control: Run(0.00, 0.00), 60),   // detected
            new(1, Planted: Run(0.30, 0.10), Control: Run(0.20, 0.30), 70),   // missed (drop); false alarm
            new(2, Planted: Run(0.04, 0.60), Control: Run(0.30, 0.00), 80),   // missed (margin)
            new(3, Planted: Run(0.06, 0.30), Control: Run(-0.1, 0.40), 90),   // detected; control missed (margin)
        ]);
        Assert.Equal(2, report.Detections);
        Assert.Equal(0.5, report.DetectionRate);
        Assert.Equal(1, report.FalseAlarms);
        Assert.Equal(0.25, report.FalseAlarmRate);
        Assert.Equal(75, report.MeanSecondsPerSeed);

        var md = report.ToMarkdown();
        Assert.Contains("| detection (planted models judged to rely on the arm) | 0.50 (2/4) |", md);
        Assert.Contains("| false alarm (control models judged to rely on it) | 0.25 (1/4) |", md);
        Assert.Contains("Seeds 0-3;", md);
        Assert.Contains("Wall time per seed (both models): mean 75 s, min / median / max 60 / 75 / 90 s.", md);
        // Margins: planted 0.04, 0.06, 0.30, 0.30; control -0.1, 0, 0.2, 0.3.
        Assert.Contains("| visualization margin | 0.050 | 0.040 / 0.180 / 0.300 | -0.100 / 0.100 / 0.300 |", md);
        Assert.Contains("| 1 | control | 0.900 | 0.950 | 0.650 | 0.300 | 0.100 | 0.2100 | ring 0.0100 | 0.2000 | relies |", md);
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(0.5, json.RootElement.GetProperty("detectionRate").GetDouble());
        Assert.Equal(0.25, json.RootElement.GetProperty("falseAlarmRate").GetDouble());
        Assert.False(json.RootElement.GetProperty("rows")[2].GetProperty("planted").GetProperty("reliesOnPlantedFeature").GetBoolean());
    }

    [Fact]
    public void Wilson_intervals_match_hand_computed_values()
    {
        // 0/10: upper end z²/n / (1 + z²/n) = 0.38415 / 1.38415.
        var (low, high) = DumbbellSweepReport.WilsonInterval(0, 10);
        Assert.Equal(0, low);
        Assert.Equal(0.27753, high, 4);
        (low, high) = DumbbellSweepReport.WilsonInterval(10, 10);
        Assert.Equal(0.72247, low, 4);
        Assert.Equal(1, high);
        (low, high) = DumbbellSweepReport.WilsonInterval(5, 10);
        Assert.Equal(0.23659, low, 4);
        Assert.Equal(0.76341, high, 4);
    }

    [Fact]
    public void A_cancelled_sweep_keeps_finished_seeds_and_a_rerun_measures_only_the_rest()
    {
        using var folder = new TempFolder();
        var visualizer = new CountingVisualizer();
        using var cancel = new CancellationTokenSource();
        var cancelAfterFirstSeed = new SynchronousProgress<DumbbellSweepProgress>(p => { if (p.Stage == DumbbellSweepStage.Finished) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            DumbbellLab.Sweep(Tiny, [0, 1], folder.Path, visualizer, cancelAfterFirstSeed, cancellationToken: cancel.Token));
        Assert.Equal(10, visualizer.Calls);   // two models of five classes
        Assert.True(File.Exists(folder.File("seed-0.json")));
        Assert.False(File.Exists(folder.File("seed-1.json")));
        Assert.False(File.Exists(folder.File(DumbbellSweepReport.JsonFile)));
        var firstWrite = File.GetLastWriteTimeUtc(folder.File("seed-0.json"));

        var stages = new List<(int Seed, DumbbellSweepStage Stage)>();
        var report = DumbbellLab.Sweep(Tiny, [0, 1], folder.Path, visualizer, new SynchronousProgress<DumbbellSweepProgress>(p =>
        {
            if (p.Stage is DumbbellSweepStage.Kept or DumbbellSweepStage.Finished) stages.Add((p.Seed, p.Stage));
        }));
        Assert.Equal(20, visualizer.Calls);
        Assert.Equal([(0, DumbbellSweepStage.Kept), (1, DumbbellSweepStage.Finished)], stages);
        Assert.Equal(firstWrite, File.GetLastWriteTimeUtc(folder.File("seed-0.json")));
        Assert.Equal([0, 1], report.Rows.Select(r => r.Seed));
        Assert.True(File.Exists(folder.File("seed-1/planted/summary.json")));
        Assert.True(File.Exists(folder.File("seed-1/control/visualizations.png")));
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File(DumbbellSweepReport.JsonFile)));
        Assert.Equal(2, json.RootElement.GetProperty("seeds").GetInt32());

        // A kept row reads back exactly as it was measured.
        var again = DumbbellLab.Sweep(Tiny, [1, 0], folder.Path, visualizer);
        Assert.Equal(20, visualizer.Calls);
        Assert.Equal(report.Rows.Reverse(), again.Rows);
    }

    [Fact]
    public void Seeds_measured_with_other_settings_are_refused_with_the_difference_and_redone_with_overwrite()
    {
        using var folder = new TempFolder();
        var visualizer = new CountingVisualizer();
        DumbbellLab.Sweep(Tiny, [0], folder.Path, visualizer);
        var firstWrite = File.GetLastWriteTimeUtc(folder.File("seed-0.json"));

        var error = Assert.Throws<SweepFolderMismatchException>(() => DumbbellLab.Sweep(Tiny with { Epochs = 2 }, [0, 1], folder.Path, visualizer));
        Assert.Contains("holds seeds 0 measured differently (seed 0: settings.epochs: 1 → 2)", error.Message);
        Assert.Contains("--force", error.Message);
        Assert.Equal(10, visualizer.Calls);
        Assert.False(File.Exists(folder.File("seed-1.json")), "a refused sweep must not start measuring");

        var otherVisualizer = Assert.Throws<SweepFolderMismatchException>(() =>
            DumbbellLab.Sweep(Tiny, [0], folder.Path, new CountingVisualizer("another method")));
        Assert.Contains("visualizer", otherVisualizer.Message);

        DumbbellLab.Sweep(Tiny with { Epochs = 2 }, [0], folder.Path, visualizer, overwrite: true);
        Assert.Equal(20, visualizer.Calls);
        Assert.NotEqual(firstWrite, File.GetLastWriteTimeUtc(folder.File("seed-0.json")));
        Assert.Contains("\"epochs\": 2", File.ReadAllText(folder.File("seed-0.json")));
    }

    [Fact]
    public void Kept_seeds_are_judged_again_with_new_thresholds_without_measuring_again()
    {
        using var folder = new TempFolder();
        var visualizer = new CountingVisualizer();
        // The drawn arm gives every model a margin above 0.02; no accuracy drop is required.
        var lenient = Tiny with { MinimumScoreMargin = 0.01, MinimumAccuracyDrop = -1, Threads = 1 };
        var first = DumbbellLab.Sweep(lenient, [0, 1], folder.Path, visualizer);
        Assert.Equal((1.0, 1.0), (first.DetectionRate, first.FalseAlarmRate));

        var strict = DumbbellLab.Sweep(lenient with { MinimumScoreMargin = 0.9, Threads = 2 }, [0, 1], folder.Path, visualizer);
        Assert.Equal(20, visualizer.Calls);
        Assert.Equal(first.Rows, strict.Rows);
        Assert.Equal((0.0, 0.0), (strict.DetectionRate, strict.FalseAlarmRate));
    }

    [Theory]
    [InlineData("0-9", new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData("7", new[] { 7 })]
    [InlineData("12, 3,0-1", new[] { 0, 1, 3, 12 })]
    [InlineData("2-4,3-5", new[] { 2, 3, 4, 5 })]
    public void Seed_lists_parse_to_ascending_distinct_seeds(string text, int[] expected)
    {
        Assert.Equal(expected, SeedList.Parse(text));
        Assert.Equal(expected, SeedList.Parse(SeedList.Format(expected)));
    }

    [Theory]
    [InlineData("", "neither a seed nor a range")]
    [InlineData("a", "neither a seed nor a range")]
    [InlineData("1,,2", "neither a seed nor a range")]
    [InlineData("-1", "neither a seed nor a range")]
    [InlineData("1--2", "neither a seed nor a range")]
    [InlineData("0-9-12", "neither a seed nor a range")]
    [InlineData("9-0", "runs backwards")]
    [InlineData("0-10000", "more than 10000 seeds")]
    [InlineData("0-2147483647", "more than 10000 seeds")]
    public void Bad_seed_lists_are_rejected_with_the_text(string text, string reason)
    {
        var error = Assert.Throws<InvalidSettingException>(() => SeedList.Parse(text));
        Assert.Contains($"seeds '{text}'", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void The_command_line_refuses_bad_seed_options_and_mismatched_folders_in_one_line()
    {
        using var scratch = new Scratch();
        CliAssert.Fails(scratch, ["diagnose", "--seeds", "3-1", "--out", "sweep"], "seeds '3-1'", "runs backwards");
        CliAssert.Fails(scratch, ["diagnose", "--seed", "1", "--seeds", "0-3", "--out", "sweep"], "--seed", "--seeds", "not both");
        // A folder holding a tiny sweep: the command line's default settings differ, so it refuses before training.
        DumbbellLab.Sweep(Tiny, [0], scratch.File("sweep"), new CountingVisualizer());
        CliAssert.Fails(scratch, ["diagnose", "--seeds", "0-1", "--out", "sweep"], "seeds 0 measured differently", "--force");
    }
}
