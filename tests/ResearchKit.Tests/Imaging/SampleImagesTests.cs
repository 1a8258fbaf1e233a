using ResearchKit.Imaging;
using ResearchKit.Native;

namespace ResearchKit.Tests.Imaging;

public sealed class SampleImagesTests : IDisposable
{
    readonly TempFolder _temp = new();

    public SampleImagesTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string, int, int> Sizes => new()
    {
        { "astronaut", 512, 512 }, { "chelsea", 451, 300 }, { "coffee", 600, 400 },
        { "rocket", 640, 427 }, { "hubble", 500, 436 }, { "retina", 512, 512 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_sample_is_found_and_loads_at_its_size(string name, int width, int height)
    {
        string path = SampleImages.Path(name);
        Assert.True(File.Exists(path), path);
        using var image = SampleImages.Load(name);
        Assert.Equal(new long[] { 1, 3, height, width }, image.shape);
        // Photos, not blank frames: every channel varies.
        Assert.True(image.std([2, 3]).min().item<float>() > 0.02f);
    }

    [Fact]
    public void All_lists_every_named_sample()
    {
        Assert.Equal(Sizes.Count(), SampleImages.Names.Count);
        Assert.Equal(SampleImages.Names.Select(n => n + ".jpg"), SampleImages.All.Select(Path.GetFileName));
        Assert.All(SampleImages.All, path => Assert.True(new FileInfo(path).Length is > 10_000 and < 300_000, path));
    }

    [Fact]
    public void The_copy_next_to_the_test_assembly_is_found_first()
    {
        string found = SampleImages.Locate(null, [AppContext.BaseDirectory]);
        Assert.Equal(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "data")), Path.GetFullPath(found));
    }

    [Fact]
    public void A_data_folder_above_the_start_is_found_and_one_without_the_readme_marker_is_skipped()
    {
        string outer = MakeSampleFolder(_temp.File("data"), marked: true);
        string start = Directory.CreateDirectory(_temp.File("repo/bin/Debug")).FullName;
        MakeSampleFolder(_temp.File("repo/data"), marked: false);

        Assert.Equal(outer, SampleImages.Locate(null, [start]));
        Assert.Equal(outer, SampleImages.Locate(outer, [start]));
    }

    [Fact]
    public void A_wrong_explicit_folder_or_no_folder_at_all_is_reported()
    {
        string unmarked = MakeSampleFolder(_temp.File("data"), marked: false);
        var explicitError = Assert.Throws<InputNotFoundException>(() => SampleImages.Locate(unmarked, []));
        Assert.Contains($"RESEARCHKIT_DATA={unmarked}", explicitError.Message);

        var searchError = Assert.Throws<InputNotFoundException>(() => SampleImages.Locate(null, [_temp.Path]));
        Assert.Contains(_temp.Path, searchError.Message);
        Assert.Contains("RESEARCHKIT_DATA", searchError.Message);
    }

    [Fact]
    public void An_unknown_name_lists_the_samples()
    {
        var error = Assert.Throws<InvalidSettingException>(() => SampleImages.Path("lena"));
        Assert.Contains("astronaut, chelsea, coffee", error.Message);
    }

    static string MakeSampleFolder(string folder, bool marked)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "README.md"), marked ? SampleImages.Marker + " -->\n# Samples\n" : "# Some other data\n");
        foreach (string name in SampleImages.Names) File.WriteAllBytes(Path.Combine(folder, name + ".jpg"), [1]);
        return Path.GetFullPath(folder);
    }
}
