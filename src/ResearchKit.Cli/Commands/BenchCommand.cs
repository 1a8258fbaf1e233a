using System.CommandLine;
using System.Text.Json;
using ResearchKit.Benchmarks;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit bench</c>: speed and memory figures, comparable with bench/peer.py (run both with bench/run.sh).</summary>
static class BenchCommand
{
    public static Command Create()
    {
        var rssSteps = new Option<int>("--rss-steps") { Description = "Render steps for the memory-growth figure", DefaultValueFactory = _ => 2000 };
        var noTiled = new Option<bool>("--no-tiled") { Description = "Skip the 4096x4096 tiled dream" };
        var json = new Option<bool>("--json") { Description = "Print only the JSON figures" };
        var command = new Command("bench", "Measure render speed, DeepDream time, memory growth and peak memory (not a test; compare with bench/run.sh)")
            { rssSteps, noTiled, json };
        command.SetAction(parse =>
        {
            using var model = CommonOptions.LoadModel(parse);
            var figures = BenchmarkSuite.Run(model, parse.GetValue(rssSteps), !parse.GetValue(noTiled), m => Console.Error.WriteLine($"bench: {m}"));
            Console.WriteLine(JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
            return 0;
        });
        return command;
    }
}
