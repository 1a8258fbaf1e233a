using System.Diagnostics;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

public static partial class DumbbellLab
{
    /// <summary>
    /// Runs the lab for every seed twice — the planted model and its control (<see cref="DumbbellLabSettings.AsControl"/>)
    /// — and reports how often the verdict catches the planted model and how often it accuses the control.
    /// <para>
    /// Resumable: each finished seed is saved in <paramref name="folder"/> as <c>seed-N.json</c> (its two full reports
    /// go to <c>seed-N/planted/</c> and <c>seed-N/control/</c>), and a later sweep into the same folder keeps the seeds
    /// measured with the same settings and visualizer. The verdict thresholds change no measurement, so kept seeds
    /// are judged again with the thresholds of <paramref name="settings"/>. Writes <see cref="DumbbellSweepReport.JsonFile"/>
    /// and <see cref="DumbbellSweepReport.MarkdownFile"/> at the end; cancellation keeps every finished seed.
    /// </para>
    /// </summary>
    /// <param name="settings">The lab's settings; its seed is replaced by each of <paramref name="seeds"/>.</param>
    /// <param name="seeds">Distinct seeds, in the order to run them (and of the report's rows).</param>
    /// <param name="visualizer">Makes the class visualizations; null uses a <see cref="PresetClassVisualizer"/> with the PixelAscent preset.</param>
    /// <param name="overwrite">Measure again the seeds the folder holds from other settings, instead of refusing.</param>
    /// <exception cref="SweepFolderMismatchException">The folder holds seeds measured differently and <paramref name="overwrite"/> is false.</exception>
    public static DumbbellSweepReport Sweep(DumbbellLabSettings settings, IReadOnlyList<int> seeds, string folder,
        IClassVisualizer? visualizer = null, IProgress<DumbbellSweepProgress>? progress = null, bool overwrite = false,
        CancellationToken cancellationToken = default)
    {
        settings.Validate();
        if (seeds.Count == 0) throw new InvalidSettingException("a sweep needs at least one seed", nameof(seeds));
        if (seeds.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new InvalidSettingException(FormattableString.Invariant($"seed {repeated.Key} appears more than once"), nameof(seeds));
        visualizer ??= new PresetClassVisualizer();
        var files = new SweepRowFiles(folder, settings, visualizer.Description);
        var kept = files.Keep(seeds, overwrite);

        var rows = new List<DumbbellSweepRow>();
        foreach (int seed in seeds)
        {
            if (!kept.TryGetValue(seed, out var row))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                var planted = RunAndSummarize(settings with { Seed = seed }, DumbbellSweepStage.Planted);
                var control = RunAndSummarize(settings.AsControl() with { Seed = seed }, DumbbellSweepStage.Control);
                row = new DumbbellSweepRow(seed, planted, control, clock.Elapsed.TotalSeconds);
                files.Save(row);
            }
            rows.Add(row);
            var stage = kept.ContainsKey(seed) ? DumbbellSweepStage.Kept : DumbbellSweepStage.Finished;
            progress?.Report(new DumbbellSweepProgress(seed, rows.Count, seeds.Count, stage, Row: row));
        }
        var report = new DumbbellSweepReport(settings, visualizer.Description, rows);
        report.WriteTo(folder);
        return report;

        DumbbellRunSummary RunAndSummarize(DumbbellLabSettings run, DumbbellSweepStage stage)
        {
            int done = rows.Count;
            var lab = progress is null ? null : new SynchronousProgress<DumbbellLabProgress>(p =>
                progress.Report(new DumbbellSweepProgress(run.Seed, done, seeds.Count, stage, p)));
            // The scope frees whatever tensors the run leaves behind; the report's own are disposed with it.
            using var scope = NewDisposeScope();
            using var report = Run(run, visualizer, lab, cancellationToken);
            report.WriteTo(files.ReportFolder(run.Seed, stage));
            return DumbbellRunSummary.Of(report);
        }
    }
}

/// <summary>What a sweep is doing.</summary>
public enum DumbbellSweepStage
{
    /// <summary>Training and measuring the planted model of a seed.</summary>
    Planted,
    /// <summary>Training and measuring the control model of a seed.</summary>
    Control,
    /// <summary>A seed has just been measured and saved.</summary>
    Finished,
    /// <summary>A seed was measured by an earlier sweep into the same folder and is kept.</summary>
    Kept,
}

/// <summary>Where a sweep is.</summary>
/// <param name="Seed">The seed concerned.</param>
/// <param name="Done">Seeds finished or kept so far, this one included once it is.</param>
/// <param name="Total">Seeds in the sweep.</param>
/// <param name="Stage">What is happening to the seed.</param>
/// <param name="Lab">The lab's own progress while a model trains and is measured.</param>
/// <param name="Row">The seed's row once finished or kept.</param>
public sealed record DumbbellSweepProgress(int Seed, int Done, int Total, DumbbellSweepStage Stage, DumbbellLabProgress? Lab = null, DumbbellSweepRow? Row = null);
