using System.Text.Json;
using ResearchKit.Atlas;
using ResearchKit.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Atlas;

public sealed class LayerAtlasTests : IDisposable
{
    readonly ResearchKit.Models.SequentialModel _model = TinyFloatModel();
    readonly string _folder = Directory.CreateTempSubdirectory("rk-atlas-").FullName;

    public void Dispose()
    {
        _model.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    static ResearchKit.Models.SequentialModel TinyFloatModel()
    {
        ResearchKit.Native.TorchRuntime.EnsureLoaded();
        manual_seed(11);
        return new ResearchKit.Models.SequentialModel("tiny32", [
            ("a", nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.ReLU())),
            ("b", nn.Sequential(nn.Conv2d(8, 8, 3, stride: 2, padding: 1), nn.ReLU())),
        ], 32, 32);
    }

    static AtlasSettings Settings(string channels = "0-6", int batch = 2, int steps = 6) =>
        new("b", AtlasSettings.ParseChannels(channels), Steps: steps, Height: 32, Width: 32, Seed: 5, Batch: batch);

    string Dir(string name) => Path.Combine(_folder, name);

    static Dictionary<string, byte[]> Files(string folder) =>
        Directory.EnumerateFiles(folder, "channel-*").ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    static string ChannelEntries(string folder) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, AtlasManifest.FileName))).RootElement.GetProperty("channels").GetRawText();

    [Theory]
    [InlineData("0-3", new[] { 0, 1, 2, 3 })]
    [InlineData("7", new[] { 7 })]
    [InlineData("9-12,0,5, 3", new[] { 0, 3, 5, 9, 10, 11, 12 })]
    [InlineData("2-4,3-5", new[] { 2, 3, 4, 5 })]
    public void Channel_lists_parse_to_ascending_distinct_channels(string text, int[] expected)
    {
        Assert.Equal(expected, AtlasSettings.ParseChannels(text));
        Assert.Equal(expected, AtlasSettings.ParseChannels(AtlasSettings.FormatChannels(expected)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-3")]
    [InlineData("5-2")]
    [InlineData("1--2")]
    [InlineData("-1")]
    public void Bad_channel_lists_are_rejected_with_the_text(string text)
    {
        var e = Assert.Throws<InvalidSettingException>(() => AtlasSettings.ParseChannels(text));
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void Shards_parse_and_auto_reads_the_array_index()
    {
        Assert.Equal(new Shard(2, 8), Shard.Parse("2/8"));
        Assert.Equal(new Shard(3, 8), Shard.Parse("auto/8", v => v == "SLURM_ARRAY_TASK_ID" ? "3" : null));
        Assert.Equal(new Shard(5, 8), Shard.Parse("auto/8", v => v == "JOB_COMPLETION_INDEX" ? "5" : null));
        foreach (var bad in new[] { "8/8", "1", "-1/4", "x/4", "1/0", "1/2/3" })
            Assert.Throws<InvalidSettingException>(() => Shard.Parse(bad, _ => null));
        Assert.Contains("SLURM_ARRAY_TASK_ID", Assert.Throws<InvalidSettingException>(() => Shard.Parse("auto/8", _ => null)).Message);
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 3)]
    [InlineData(3, 5)]
    public void Shards_partition_the_channels(int batch, int count)
    {
        var settings = Settings("0-20,40,41", batch);
        var owners = settings.Channels.Select(c => Enumerable.Range(0, count).Where(i => new Shard(i, count).Owns(c, batch)).ToList()).ToList();
        Assert.All(owners, o => Assert.Single(o));
        // A batch is never split between shards, and batch 1 is plain c % n.
        Assert.All(settings.Groups(), g => Assert.Single(g.Select(c => owners[settings.Channels.ToList().IndexOf(c)][0]).Distinct()));
        if (batch == 1) Assert.All(settings.Channels, c => Assert.True(new Shard(c % count, count).Owns(c, 1)));
    }

    [Fact]
    public void Three_shards_merged_equal_one_unsharded_run_byte_for_byte()
    {
        var settings = Settings();
        var whole = LayerAtlas.Render(_model, settings, Shard.All, Dir("whole"));
        Assert.Equal(settings.Channels, whole.Channels.Select(c => c.Channel));
        var parts = Enumerable.Range(0, 3).Select(i => Dir($"part-{i}")).ToList();
        for (int i = 0; i < 3; i++)
        {
            var part = LayerAtlas.Render(_model, settings, new Shard(i, 3), parts[i]);
            Assert.NotEmpty(part.Channels);
            Assert.True(part.Channels.Count < settings.Channels.Count);
        }
        var merged = LayerAtlas.Merge(parts, Dir("merged"));

        var expected = Files(Dir("whole"));
        Assert.Equal(14, expected.Count);
        var actual = Files(Dir("merged"));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected) Assert.True(bytes.SequenceEqual(actual[name]), $"{name} differs");
        Assert.Equal(ChannelEntries(Dir("whole")), ChannelEntries(Dir("merged")));
        Assert.Empty(merged.Missing);
        Assert.Equal(["0/3", "1/3", "2/3"], merged.Shards);
        Assert.Contains("channel-0006.png", File.ReadAllText(Dir("merged/index.html")));
    }

    [Fact]
    public void A_silent_channel_rendered_in_a_batch_with_a_live_one_is_flagged_dead_alone()
    {
        manual_seed(11);
        var b = nn.Conv2d(8, 8, 3, stride: 2, padding: 1);
        // Channel 3 of "b" can never fire: its bias is far below anything its convolution reaches.
        using (no_grad()) b.bias![3] = -1e4f;
        using var model = new ResearchKit.Models.SequentialModel("tiny32-silent", [
            ("a", nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.ReLU())),
            ("b", nn.Sequential(b, nn.ReLU())),
        ], 32, 32);
        var manifest = LayerAtlas.Render(model, Settings("2-3", batch: 2), Shard.All, Dir("batch"));
        Assert.Equal([ResearchKit.Rendering.RenderStop.Completed, ResearchKit.Rendering.RenderStop.Dead], manifest.Channels.Select(c => c.Stop));
        Assert.Equal(ResearchKit.Rendering.RenderStop.Dead, AtlasChannelSidecar.TryRead(Dir("batch/channel-0003.json"))!.Stop);
        Assert.Contains("dead start", File.ReadAllText(Dir("batch/index.html")));
    }

    [Fact]
    public void The_sidecar_holds_a_rising_curve_ending_near_the_final_activation()
    {
        var manifest = LayerAtlas.Render(_model, Settings("2", batch: 1, steps: 12), Shard.All, Dir("one"));
        var sidecar = AtlasChannelSidecar.TryRead(Dir("one/channel-0002.json"))!;
        Assert.Equal(12, sidecar.ObjectiveCurve.Count);
        Assert.True(sidecar.ObjectiveCurve[^1] > sidecar.ObjectiveCurve[0], $"the channel's objective rises: {string.Join(", ", sidecar.ObjectiveCurve)}");
        using var image = ImageIO.Load(Dir("one/channel-0002.png"));
        double measured = _model.Run(image, "b")[0, 2].mean().item<float>();
        Assert.Equal(measured, manifest.Channels[0].FinalActivation, 0.02 * Math.Max(1, Math.Abs(measured)));
    }

    [Fact]
    public void Resume_skips_finished_channels_and_renders_corrupt_or_missing_ones_again()
    {
        var settings = Settings("0-5", batch: 2);
        string folder = Dir("resume");
        LayerAtlas.Render(_model, settings, Shard.All, folder);
        var original = Files(folder);
        var old = DateTime.UtcNow.AddHours(-1);
        foreach (var file in Directory.EnumerateFiles(folder, "channel-*")) File.SetLastWriteTimeUtc(file, old);
        File.WriteAllText(Path.Combine(folder, "channel-0001.json"), "{ truncated");
        File.Delete(Path.Combine(folder, "channel-0004.png"));

        var reports = new List<AtlasProgress>();
        LayerAtlas.Render(_model, settings, Shard.All, folder, new SyncProgress(reports.Add));

        Assert.Equal([1, 4], reports.Where(r => !r.Skipped).Select(r => r.Channel).Order());
        Assert.Equal(6, reports.Count);
        foreach (var c in new[] { 0, 2, 3, 5 })
            foreach (var name in new[] { LayerAtlas.ImageName(c), LayerAtlas.SidecarName(c) })
                Assert.Equal(old, File.GetLastWriteTimeUtc(Path.Combine(folder, name)));
        var again = Files(folder);
        foreach (var (name, bytes) in original) Assert.True(bytes.SequenceEqual(again[name]), $"{name} differs after resume");
    }

    [Fact]
    public void Resume_renders_again_when_the_settings_changed()
    {
        string folder = Dir("changed");
        LayerAtlas.Render(_model, Settings("0-1", batch: 1, steps: 4), Shard.All, folder);
        var reports = new List<AtlasProgress>();
        LayerAtlas.Render(_model, Settings("0-1", batch: 1, steps: 5), Shard.All, folder, new SyncProgress(reports.Add));
        Assert.All(reports, r => Assert.False(r.Skipped));
        Assert.Equal(5, AtlasChannelSidecar.TryRead(Path.Combine(folder, "channel-0000.json"))!.ObjectiveCurve.Count);
    }

    [Fact]
    public void Merge_refuses_shards_rendered_with_different_settings()
    {
        LayerAtlas.Render(_model, Settings("0-3", batch: 1, steps: 4), new Shard(0, 2), Dir("s0"));
        LayerAtlas.Render(_model, Settings("0-3", batch: 1, steps: 5), new Shard(1, 2), Dir("s1"));
        var e = Assert.Throws<InvalidFileException>(() => LayerAtlas.Merge([Dir("s0"), Dir("s1")], Dir("m")));
        Assert.Contains(Dir("s0"), e.Message);
        Assert.Contains(Dir("s1"), e.Message);
        Assert.Contains("steps: 4 → 5", e.Message);
        Assert.False(File.Exists(Dir("m/manifest.json")));
    }

    [Fact]
    public void Dataset_examples_record_the_largest_activation_over_the_photos()
    {
        string photos = Dir("photos");
        Directory.CreateDirectory(photos);
        for (int i = 0; i < 3; i++)
            ImageIO.Save(rand([1, 3, 32, 32], generator: new Generator((ulong)i)), Path.Combine(photos, $"p{i}.png"));
        var manifest = LayerAtlas.Render(_model, Settings("2", batch: 1, steps: 3) with { Images = photos }, Shard.All, Dir("ex"));
        var entry = Assert.Single(manifest.Channels);
        double expected = Enumerable.Range(0, 3)
            .Max(i => (double)_model.Run(ImageIO.Load(Path.Combine(photos, $"p{i}.png")), "b")[0, 2].mean().item<float>());
        Assert.Equal(expected, entry.DatasetMax!.Value, 1e-5);
        Assert.Equal(3, entry.Examples.Count);
        Assert.Equal(expected, entry.Examples[0].Activation, 1e-5);
        Assert.All(entry.Examples, e => Assert.True(File.Exists(Path.Combine(Dir("ex"), e.Image))));
    }

    sealed class SyncProgress(Action<AtlasProgress> report) : IProgress<AtlasProgress>
    {
        public void Report(AtlasProgress value) => report(value);
    }
}
