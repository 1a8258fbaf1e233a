using ResearchKit.IO;
using System.CommandLine;
using ResearchKit.Cli.Options;
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
        var activationMaxOnly = new Option<bool>("--activation-max-only")
            { Description = "Measure only activation-maximization steps/s (bench/run.sh alternates this with the peer's)" };
        var command = new Command("bench", "Measure render speed, DeepDream time, memory growth and peak memory (not a test; compare with bench/run.sh)")
            { rssSteps, noTiled, json, activationMaxOnly };
        command.SetAction(parse =>
        {
            using var model = ModelOptions.Load(parse);
            if (parse.GetValue(activationMaxOnly))
            {
                var stepsPerSecond = BenchmarkSuite.ActivationMaxStepsPerSecond(BenchmarkSuite.ActivationMaxPlan(model));
                Console.WriteLine(JsonSerializer.Serialize(new { activationMaxStepsPerSecond = stepsPerSecond, kernels = model.Execution.Name }));
                return 0;
            }
            var figures = BenchmarkSuite.Run(model, parse.GetValue(rssSteps), !parse.GetValue(noTiled), m => Console.Error.WriteLine($"bench: {m}"));
            Console.WriteLine(JsonSerializer.Serialize(figures, KitJson.Options));
            return 0;
        });
        return command;
    }
}
