using System.CommandLine;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;

namespace ResearchKit.Cli.Options;

/// <summary>What to visualize or explain: a layer, a channel, a class, a photo's look, or an objective shorthand.</summary>
static class ObjectiveOptions
{
    public static readonly Option<string?> Layer = new("--layer") { Description = "Tap name or alias, e.g. layer3" };
    public static readonly Option<int?> Channel = new("--channel") { Description = "Channel to maximize (omit for the whole layer, DeepDream-style)" };
    public static readonly Option<string?> Class = new("--class") { Description = "Class index or label (classifiers; needs a logits output)" };
    public static readonly Option<string?> Like = new("--like") { Description = "Image whose pooled features to move towards (\"what makes this look like that photo\"; a class stand-in for models without a classifier)", HelpName = "IMAGE" };
    public static readonly Option<string?> Shorthand = new("--objective") { Description = "Objective shorthand instead of --layer/--channel, e.g. layer3:7" };

    /// <summary>All of them, for commands that accept any objective.</summary>
    public static IEnumerable<Option> All => [Layer, Channel, Class, Like, Shorthand];

    /// <summary>The layer given with --layer.</summary>
    /// <exception cref="InvalidSettingException">There was none.</exception>
    public static string RequireLayer(ParseResult parse) => parse.GetValue(Layer) ?? throw new InvalidSettingException("give --layer, e.g. --layer layer3");

    /// <summary>The channel given with --channel.</summary>
    /// <exception cref="InvalidSettingException">There was none.</exception>
    public static int RequireChannel(ParseResult parse) => parse.GetValue(Channel) ?? throw new InvalidSettingException("give --channel, e.g. --channel 7");

    /// <summary>The objective from --objective, --like, --class, or --layer with an optional --channel; validated against the model.</summary>
    public static Objective Parse(ParseResult parse, Model model)
    {
        Objective objective;
        if (parse.GetValue(Shorthand) is { } text) objective = Objective.Parse(text);
        else if (parse.GetValue(Like) is { } photoPath)
        {
            using var photo = ImageIO.Load(photoPath, model.InputWidth, model.InputHeight);
            objective = Objective.LikeImage(model, photo, parse.GetValue(Layer), Path.GetFileNameWithoutExtension(photoPath));
        }
        else if (parse.GetValue(Class) is { } label)
            objective = Objective.ClassLogit(ClassLabels.Resolve(model, label));
        else if (parse.GetValue(Layer) is { } layer)
        {
            if (parse.GetValue(Channel) is { } channel)
            {
                model.CheckChannel(layer, channel);
                objective = Objective.Channel(layer, channel);
            }
            else objective = Objective.Layer(layer);
        }
        else throw new InvalidSettingException("say what to visualize: --layer (with --channel), --class, --like or --objective");
        foreach (var tap in objective.Taps) model.ResolveTap(tap);
        return objective;
    }
}
