using ResearchKit.Rendering;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Tests.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Dreaming;

public sealed class ZoomTests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>, IDisposable
{
    readonly Model _model = fixture.Model;
    readonly string _folder = Directory.CreateTempSubdirectory("rk-zoom-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static ZoomSettings Quick(int frames) =>
        new ZoomSettings(new DreamSettings("layer2") with { Octaves = 2, StepsPerOctave = 2, Seed = 5 }) { Frames = frames, Zoom = 1.1, Rotate = 3 };

    static ZoomStart Chelsea() => ZoomStart.Photo(SampleImages.Load("chelsea", width: 72, height: 56), "chelsea");

    string Folder(string name) => Path.Combine(_folder, name);

    [Fact]
    public void Zoom_writes_numbered_frames_of_the_start_size_and_a_settings_file()
    {
        var result = ZoomLoop.Run(_model, Chelsea(), Quick(4), Folder("run"));
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.Equal(["frame_00000.png", "frame_00001.png", "frame_00002.png", "frame_00003.png"], result.Frames.Select(Path.GetFileName));
        Assert.Equal(4, Directory.EnumerateFiles(Folder("run"), "frame_*.png").Count());
        Assert.All(result.Frames, f => Assert.Equal([1, 3, 56, 72], ImageIO.Load(f).shape));
        string settings = File.ReadAllText(Path.Combine(Folder("run"), ZoomLoop.SettingsFile));
        Assert.Contains("\"zoom\": 1.1", settings);
        Assert.Contains("\"objective\": \"layer layer2\"", settings);
        Assert.Contains("photo chelsea (72x56, sha256 ", settings);
    }

    [Fact]
    public void A_cancelled_run_resumes_without_rewriting_earlier_frames_and_ends_as_an_uninterrupted_run_does()
    {
        using var cts = new CancellationTokenSource();
        var first = ZoomLoop.Run(_model, Chelsea(), Quick(5), Folder("resumed"), onFrame: f => { if (f.Index == 2) cts.Cancel(); }, cancellation: cts.Token);
        Assert.Equal((RenderStop.Cancelled, 0, 3), (first.Stop, first.Resumed, first.Written));
        var before = first.Frames.Select(f => (File.GetLastWriteTimeUtc(f), File.ReadAllBytes(f))).ToList();

        var second = ZoomLoop.Run(_model, Chelsea(), Quick(5), Folder("resumed"));
        Assert.Equal((RenderStop.Completed, 3, 2), (second.Stop, second.Resumed, second.Written));
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(before[k].Item1, File.GetLastWriteTimeUtc(second.Frames[k]));
            Assert.Equal(before[k].Item2, File.ReadAllBytes(second.Frames[k]));
        }

        var straight = ZoomLoop.Run(_model, Chelsea(), Quick(5), Folder("straight"));
        Assert.Equal(5, second.Frames.Count);
        for (int k = 0; k < 5; k++)
            Assert.Equal(File.ReadAllBytes(straight.Frames[k]), File.ReadAllBytes(second.Frames[k]));
        Assert.NotEqual(File.ReadAllBytes(straight.Frames[3]), File.ReadAllBytes(straight.Frames[4]));
    }

    [Fact]
    public void A_folder_with_frames_from_other_settings_is_refused_unless_overwriting()
    {
        ZoomLoop.Run(_model, Chelsea(), Quick(2), Folder("other"));
        var error = Assert.Throws<FrameFolderMismatchException>(() =>
            ZoomLoop.Run(_model, Chelsea(), Quick(2) with { Zoom = 1.2 }, Folder("other")));
        Assert.Contains("zoom: 1.1 → 1.2", error.Message);
        Assert.Contains("--force", error.Message);
        Assert.Contains("dream.seed: 5 → 6", Assert.Throws<FrameFolderMismatchException>(() =>
            ZoomLoop.Run(_model, Chelsea(), Quick(2) with { Dream = Quick(2).Dream with { Seed = 6 } }, Folder("other"))).Message);

        var redone = ZoomLoop.Run(_model, Chelsea(), Quick(1) with { Zoom = 1.2 }, Folder("other"), overwrite: true);
        Assert.Equal((0, 1), (redone.Resumed, redone.Written));
        Assert.Equal(1, ZoomLoop.CountFrames(Folder("other")));

        var extended = ZoomLoop.Run(_model, Chelsea(), Quick(2) with { Zoom = 1.2 }, Folder("other"));
        Assert.Equal((1, 1), (extended.Resumed, extended.Written));
    }

    [Fact]
    public void Zoom_from_seeded_noise_is_reproducible_and_the_gif_has_every_frame()
    {
        var start = ZoomStart.Noise(48, 40, seed: 2);
        var a = ZoomLoop.Run(_model, start, Quick(3), Folder("noise-a"));
        var b = ZoomLoop.Run(_model, ZoomStart.Noise(48, 40, seed: 2), Quick(3), Folder("noise-b"));
        Assert.Equal(File.ReadAllBytes(a.Frames[2]), File.ReadAllBytes(b.Frames[2]));

        string gif = Path.Combine(_folder, "zoom.gif");
        FrameAnimation.SaveGif(a.Frames, gif, framesPerSecond: 20);
        using var animation = Image.Load(gif);
        Assert.Equal(3, animation.Frames.Count);
        Assert.Equal((48, 40), (animation.Width, animation.Height));
        Assert.All(animation.Frames.Cast<ImageFrame>(), f => Assert.Equal(5, f.Metadata.GetGifMetadata().FrameDelay));
        Assert.Throws<OutputExistsException>(() => FrameAnimation.SaveGif(a.Frames, gif));
    }

    [Fact]
    public void Zooming_by_two_is_the_central_half_resampled_and_a_quarter_turn_is_rot90()
    {
        using var scope = NewDisposeScope();
        var image = rand([1, 3, 16, 16], generator: new Generator(4));
        // The outermost ring differs: Resize clamps at the crop's edge, the zoom reads the pixels beyond it.
        var zoomed = ZoomLoop.ZoomInto(image, 2)[.., .., 1..^1, 1..^1];
        var expected = ImageOps.Resize(ImageOps.CenterCrop(image, 8, 8), 16, 16)[.., .., 1..^1, 1..^1];
        Assert.True(zoomed.allclose(expected, rtol: 0, atol: 1e-5), $"max error {(zoomed - expected).abs().max().ToDouble():g3}");

        // Counter-clockwise as displayed: the top row becomes the left column, read bottom to top.
        var turned = ZoomLoop.ZoomInto(image, 1, degrees: 90);
        Assert.True(turned.allclose(image.rot90(1, (2, 3)), rtol: 0, atol: 1e-5));
        Assert.True(ZoomLoop.ZoomInto(image, 1).allclose(image, rtol: 0, atol: 1e-6));
    }
}
