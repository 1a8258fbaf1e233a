using ResearchKit.Tests.Cli;

namespace ResearchKit.Tests.Atlas;

public sealed class AtlasCliTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-atlas-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("8/8", "0..7")]
    [InlineData("two/4", "0..3")]
    [InlineData("1:4", "i/n")]
    public void A_bad_shard_is_one_clear_line_and_nothing_is_written(string shard, string hint)
    {
        string output = Path.Combine(_folder, "atlas");
        var (code, _, error) = CliProcess.Run(_folder, "atlas", "--layer", "layer1", "--shard", shard, "--out", output);
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains($"shard '{shard}'", error);
        Assert.Contains(hint, error);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Merge_of_a_folder_without_a_manifest_names_it()
    {
        var (code, _, error) = CliProcess.Run(_folder, "atlas", "merge", _folder, "--out", Path.Combine(_folder, "m"));
        Assert.Equal(1, code);
        Assert.Contains(_folder, error);
        Assert.Contains("manifest.json", error);
    }
}
