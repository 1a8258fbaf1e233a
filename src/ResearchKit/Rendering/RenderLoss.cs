using ResearchKit.Models;
using ResearchKit.Objectives;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>
/// What a render minimizes: −objective + penalties, summed over the batch. Terms that read the network are evaluated on
/// the transformed input (whole, or tile by tile); terms that read only the image (penalties) on the image itself.
/// </summary>
sealed class RenderLoss
{
    readonly IReadOnlyList<(double Weight, ObjectiveTerm Term, bool Penalty)> _terms;

    public RenderLoss(Objective objective, Objective? penalties)
    {
        _terms = [.. objective.Terms.Select(t => (t.Weight, t.Term, false)),
                  .. (penalties?.Terms ?? []).Select(t => (t.Weight, t.Term, true))];
        Names = [.. _terms.Select(t => t.Penalty ? $"penalty: {t.Term.Description}" : t.Term.Description)];
        Taps = [.. _terms.SelectMany(t => t.Term.Taps).Distinct()];
        // A tap whose every reader names its channels needs only those computed (channel pruning).
        ChannelsRead = Taps
            .Select(tap => (tap, readers: _terms.Where(t => t.Term.Taps.Contains(tap)).ToList()))
            .Where(r => r.readers.All(t => t.Term.ChannelsRead is not null && t.Term.Taps.Count == 1))
            .ToDictionary(r => r.tap, r => (IReadOnlyList<int>)[.. r.readers.SelectMany(t => t.Term.ChannelsRead!).Distinct().Order()]);
    }

    /// <summary>Per tap, the only channels the terms read, where they name them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> ChannelsRead { get; }

    /// <summary>History keys of the terms, in order: the objective's terms, then the penalties' (prefixed <c>penalty:</c>).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Every tap a term reads.</summary>
    public IReadOnlyList<string> Taps { get; }

    /// <summary>
    /// Back-propagates the loss into whatever <paramref name="input"/> and <paramref name="image"/> depend on, and
    /// returns [objective, loss, each term, the objective of each batch item]: batch means (the loss: its sum), then N
    /// values, in one tensor not read back yet.
    /// </summary>
    public Tensor Backward(ModelPass pass, Tensor input, Tensor image, int? tile)
    {
        var values = tile is { } side ? Tiled(pass, input, image, side) : Whole(pass, input, image);
        var objective = Weighted(values, penalty: false) ?? zeros_like(values[0]!);
        var loss = Loss(values) ?? zeros_like(values[0]!).sum();
        if (tile is null && loss.requires_grad) loss.backward();
        var perItem = objective.detach().reshape(-1).to_type(loss.dtype);
        return cat([stack([perItem.mean(), loss.detach(), .. values.Select(v => v!.detach().mean().to_type(loss.dtype))]), perItem]);
    }

    Tensor?[] Whole(ModelPass pass, Tensor input, Tensor image)
    {
        var context = new ObjectiveContext(pass.Model, Taps.Count > 0 ? pass.Run(input, Taps, ChannelsRead) : new Dictionary<string, Tensor>(), image);
        return [.. _terms.Select(t => t.Term.Evaluate(context))];
    }

    // The network terms' gradient with respect to the input, tile by tile, each tile a graph of its own freed before the
    // next; then one backward pass of input·gradient (+ the image terms) carries it through the transforms to the
    // parameters. Each tile's terms are weighted by its share of the area, so terms averaged over positions (layer,
    // channel, direction) add up over tiles as they average over the whole input.
    Tensor?[] Tiled(ModelPass pass, Tensor input, Tensor image, int side)
    {
        var imageOnly = new ObjectiveContext(pass.Model, new Dictionary<string, Tensor>(), image);
        var imageValues = _terms.Select(t => t.Term.Taps.Count > 0 ? null : t.Term.Evaluate(imageOnly)).ToArray();
        var networkValues = _terms.Select(t => t.Term.Taps.Count > 0 ? zeros(input.shape[0], dtype: input.dtype, device: input.device) : null).ToArray();
        var x = input.detach();
        var gradient = zeros_like(x);
        long height = x.shape[2], width = x.shape[3];
        foreach (var region in Tiling.Tiles(height, width, side))
        {
            using var scope = NewDisposeScope();
            var piece = region.Of(x).clone().requires_grad_(true);
            double weight = (double)region.Height * region.Width / (height * width);
            var context = new ObjectiveContext(pass.Model, pass.Run(piece, Taps, ChannelsRead), piece);
            var tileValues = networkValues.Select((v, k) => v is null ? null : _terms[k].Term.Evaluate(context) * weight).ToArray();
            if (Loss(tileValues) is { requires_grad: true } tileLoss) tileLoss.backward();
            for (int k = 0; k < _terms.Count; k++) networkValues[k]?.add_(tileValues[k]!.detach());
            if (piece.grad is { } pieceGradient) region.Of(gradient).copy_(pieceGradient);
        }
        var surrogate = (input * gradient).sum();
        if (Loss(imageValues) is { } imageLoss) surrogate = surrogate + imageLoss;
        if (surrogate.requires_grad) surrogate.backward();
        return [.. imageValues.Select((v, k) => v ?? networkValues[k])];
    }

    // Σ (penalties) − Σ (objective terms), summed over the batch; null when no term has a value.
    Tensor? Loss(IReadOnlyList<Tensor?> values) => (Weighted(values, penalty: true), Weighted(values, penalty: false)) switch
    {
        (null, null) => null,
        ({ } penalties, null) => penalties.sum(),
        (null, { } objective) => objective.neg().sum(),
        ({ } penalties, { } objective) => (penalties - objective).sum(),
    };

    // Σ weight·value ([N]) over the objective's terms or over the penalties', skipping terms without a value; null for none.
    Tensor? Weighted(IReadOnlyList<Tensor?> values, bool penalty)
    {
        Tensor? sum = null;
        for (int k = 0; k < _terms.Count; k++)
            if (_terms[k].Penalty == penalty && values[k] is { } value)
                sum = sum is null ? value * _terms[k].Weight : sum + value * _terms[k].Weight;
        return sum;
    }
}
