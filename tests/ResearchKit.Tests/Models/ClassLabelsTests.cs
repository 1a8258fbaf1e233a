using ResearchKit.Models;

namespace ResearchKit.Tests.Models;

public sealed class ClassLabelsTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("researchkit-labels-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    static readonly string[] Expected = ["tench, Tinca tinca", "goldfish, Carassius auratus", "dumbbell"];

    [Theory]
    [InlineData("plain.txt", "tench, Tinca tinca\ngoldfish, Carassius auratus\ndumbbell\n")]
    [InlineData("crlf.txt", "tench, Tinca tinca\r\ngoldfish, Carassius auratus\r\ndumbbell\r\n\r\n")]
    [InlineData("indexed.txt", "2 dumbbell\n0 tench, Tinca tinca\n1: goldfish, Carassius auratus\n")]
    [InlineData("synset_words.txt", "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\nn03255030 dumbbell\n")]
    [InlineData("array.json", """["tench, Tinca tinca", "goldfish, Carassius auratus", "dumbbell"]""")]
    [InlineData("object.json", """{"2": "dumbbell", "0": "tench, Tinca tinca", "1": "goldfish, Carassius auratus"}""")]
    [InlineData("keras.json", """{"0": ["n01440764", "tench, Tinca tinca"], "1": ["n01443537", "goldfish, Carassius auratus"], "2": ["n03255030", "dumbbell"]}""")]
    public void Every_common_layout_reads_to_the_same_labels(string name, string text) =>
        Assert.Equal(Expected, ClassLabels.Load(Write(name, text)));

    [Fact]
    public void Labels_that_merely_start_with_digits_are_a_plain_list() =>
        Assert.Equal(["3D printer", "7-up can"], ClassLabels.Load(Write("digits.txt", "3D printer\n7-up can\n")));

    [Theory]
    [InlineData("missing.txt", null, "label file not found")]
    [InlineData("empty.txt", "  \n", "empty")]
    [InlineData("gap.txt", "tench\n\ndumbbell\n", "gap.txt:2: blank line")]
    [InlineData("twice.txt", "0 tench\n0 goldfish\n", "twice.txt:2: index 0 appears twice")]
    [InlineData("range.txt", "0 tench\n5 goldfish\n", "range.txt:2: index 5 is outside 0..1")]
    [InlineData("bad.json", "[\"tench\", ", "not valid JSON")]
    [InlineData("numbers.json", "[\"tench\", 7]", "entry 1 of the JSON array is Number")]
    [InlineData("keys.json", "{\"zero\": \"tench\"}", "key 'zero' is not a class index 0..0")]
    public void Malformed_files_are_errors_naming_the_file_and_line(string name, string? text, string message)
    {
        var path = text is null ? Path.Combine(_folder, name) : Write(name, text);
        var error = Assert.Throws<LabelFileException>(() => ClassLabels.Load(path));
        Assert.Contains(message, error.Message);
        Assert.Contains(name, error.Message);
    }

    static readonly string[] ImageNetLike = ["tench, Tinca tinca", "goldfish, Carassius auratus", "crane", "dumbbell", "crane", "barbell"];

    [Theory]
    [InlineData("dumbbell", 3)]
    [InlineData("DumbBell", 3)]
    [InlineData("tench", 0)]
    [InlineData("Carassius auratus", 1)]
    [InlineData("goldfish, Carassius auratus", 1)]
    [InlineData("4", 4)]
    public void Names_and_indices_resolve(string query, int index) => Assert.Equal(index, ClassLabels.Resolve(ImageNetLike, query));

    [Fact]
    public void An_unknown_name_lists_near_matches()
    {
        var error = Assert.Throws<UnknownClassException>(() => ClassLabels.Resolve(ImageNetLike, "dumbell"));
        Assert.Contains("no class 'dumbell'", error.Message);
        Assert.Contains("3 dumbbell", error.Message);
        Assert.DoesNotContain("tench", error.Message);
        var partial = Assert.Throws<UnknownClassException>(() => ClassLabels.Resolve(ImageNetLike, "bell"));
        Assert.Contains("3 dumbbell; 5 barbell", partial.Message);
    }

    [Fact]
    public void A_name_shared_by_two_classes_asks_for_the_index()
    {
        var error = Assert.Throws<UnknownClassException>(() => ClassLabels.Resolve(ImageNetLike, "crane"));
        Assert.Contains("2 crane; 4 crane", error.Message);
    }

    [Fact]
    public void Indices_are_checked_against_the_models_classes()
    {
        TorchSharp.torch.manual_seed(0);
        using var model = new SequentialModel("three-classes", [
            ("features", TorchSharp.torch.nn.Conv2d(3, 4, 3, stride: 2)),
            ("logits", TorchSharp.torch.nn.Sequential(TorchSharp.torch.nn.Flatten(), TorchSharp.torch.nn.Linear(4 * 3 * 3, 3))),
        ], 8, 8);
        Assert.Equal(2, ClassLabels.Resolve(model, "2"));
        var range = Assert.Throws<UnknownClassException>(() => ClassLabels.Resolve(model, "3"));
        Assert.Contains("'three-classes' has classes 0..2", range.Message);
        var unlabeled = Assert.Throws<UnknownClassException>(() => ClassLabels.Resolve(model, "dumbbell"));
        Assert.Contains("no class labels", unlabeled.Message);
        model.Labels = ClassLabels.Load(Write("tiny.txt", "cat\ndog\ndumbbell\n"));
        Assert.Equal(2, ClassLabels.Resolve(model, "dumbbell"));
    }
}
