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
        var only = new Option<string?>("--only")
        {
            Description = "Measure one figure first thing after loading (bench/run.sh alternates these with the peer's): " +
                          "activation-max (steps/s from step 20 to 220), lucid (the same on Lucid's default path) dream (a 512x512 dream, seconds), " +
                          "passes (the activation-max step's forward and backward passes in GFLOP/s against the machine's measured peak)",
        };
        only.AcceptOnlyFromAmong("activation-max", "lucid", "dream", "startup", "passes");
        var unpruned = new Option<bool>("--unpruned") { Description = "Compute every channel of layer3 although the objective reads only channel 7" };
        var command = new Command("bench", "Measure render speed, DeepDream time, memory growth and peak memory (not a test; compare with bench/run.sh)")
            { rssSteps, noTiled, json, only, unpruned };
        command.SetAction(parse =>
        {
            var start = Startup.Now();
            using var model = ModelOptions.Load(parse);
            var loaded = Startup.Now();
            bool prune = !parse.GetValue(unpruned) && parse.GetValue(only) is "activation-max" or "lucid" or "passes";
            using var pruned = prune ? BenchmarkSuite.ReadingTheObjectiveChannel(model) : null;
            object figure = parse.GetValue(only) switch
            {
                "activation-max" => new { activationMaxStepsPerSecond = BenchmarkSuite.WarmStepsPerSecond(BenchmarkSuite.ActivationMaxPlan(model)) },
                "lucid" => new { lucidStepsPerSecond = BenchmarkSuite.WarmStepsPerSecond(BenchmarkSuite.LucidPlan(model)) },
                "dream" => new { dream512Seconds = BenchmarkSuite.DreamSeconds(model) },
                "startup" => BenchmarkSuite.Startup(model, start, loaded),
                "passes" => BenchmarkSuite.Passes(model),
                _ => BenchmarkSuite.Run(model, parse.GetValue(rssSteps), !parse.GetValue(noTiled), m => Console.Error.WriteLine($"bench: {m}")),
            };
            var fields = JsonSerializer.SerializeToNode(figure, KitJson.Options)!.AsObject();
            fields["who"] = "kit";
            fields["kernels"] = model.Execution.Name;
            fields["pruned"] = prune;
            fields["loadAverage"] = Measure.LoadAverage();
            Console.WriteLine(fields.ToJsonString(new JsonSerializerOptions { WriteIndented = !parse.GetValue(json) && parse.GetValue(only) is null }));
            return 0;
        });
        return command;
    }
}
