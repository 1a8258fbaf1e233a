using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Objectives;

public sealed partial class Objective
{
    /// <summary>
    /// Mean activation of one channel (Olah et al. 2017's "channel" objective); on a transformer's tokens, the mean of
    /// one feature over the patch tokens, the class token left out (see <see cref="Models.ActivationLayout"/>).
    /// </summary>
    /// <param name="layer">Tap name or alias.</param>
    /// <param name="channel">Channel index.</param>
    /// <param name="batch">Only this batch item (others get 0); null for every item.</param>
    public static Objective Channel(string layer, int channel, int? batch = null) =>
        Term($"channel {layer}:{channel}", layer, batch, ctx => ChannelMean(ctx, layer, channel), channelsRead: [channel]);

    /// <summary>
    /// Activation of one unit at a spatial position (the centre by default), like a classic neuron; on a transformer's
    /// tokens, (x, y) is a patch of the patch grid.
    /// </summary>
    public static Objective Neuron(string layer, int channel, int? x = null, int? y = null, int? batch = null) =>
        Term($"neuron {layer}:{channel}" + (x is null && y is null ? "" : $"@({x},{y})"), layer, batch, ctx =>
        {
            var a = ChannelSlice(ctx, layer, channel);
            if (a.dim() != 3) return a.dim() == 1 ? a : a.flatten(1).mean([1]);
            long h = a.shape[1], w = a.shape[2];
            long row = y ?? h / 2, column = x ?? w / 2;
            if (row < 0 || row >= h || column < 0 || column >= w)
                throw new InvalidSettingException($"neuron position ({column},{row}) lies outside layer '{layer}' of size {w}x{h}");
            return a[.., row, column];
        }, channelsRead: [channel]);

    /// <summary>Mean squared activation of a whole layer: DeepDream's "whatever you see there, I want more of it".</summary>
    public static Objective Layer(string layer, int? batch = null) =>
        Term($"layer {layer}", layer, batch, ctx => ctx[layer].pow(2).flatten(1).mean([1]));

    /// <summary>Same as <see cref="Layer"/>, under the name of the work it comes from.</summary>
    public static Objective DeepDream(string layer, int? batch = null) => Layer(layer, batch);

    /// <summary>Mean over positions of the activation vector's projection on a direction in channel space.</summary>
    public static Objective Direction(string layer, float[] vector, int? batch = null, string? name = null) =>
        Term($"direction {layer}:{name ?? $"[{vector.Length}]"}", layer, batch, ctx =>
        {
            var (a, v) = ActivationsAndUnit(ctx, layer, vector);
            return (a * v).sum(1).flatten(1).mean([1]);
        });

    /// <summary>
    /// Projection times cosine similarity raised to <paramref name="cosinePower"/> (Lucid's activation-atlas
    /// objective): rewards pointing along the direction, not just being large.
    /// </summary>
    public static Objective DirectionCosine(string layer, float[] vector, double cosinePower = 1, int? batch = null, string? name = null) =>
        Term($"direction-cosine {layer}:{name ?? $"[{vector.Length}]"}", layer, batch, ctx =>
        {
            var (a, v) = ActivationsAndUnit(ctx, layer, vector);
            var dot = (a * v).sum(1);
            var cosine = dot / (a.norm(1, keepdim: false) + 1e-6);
            return (dot * cosine.clamp_min(1e-3).pow(cosinePower)).flatten(1).mean([1]);
        });

    /// <summary>
    /// "What makes this look like that photo": the direction of <paramref name="image"/>'s mean activation at
    /// <paramref name="layer"/> averaged over positions (by default the last <c>layerN</c> block, whose mean is the
    /// pooled feature vector at any image size), as a <see cref="DirectionCosine"/> objective. On a feature extractor
    /// without a classifier head this stands in for a class.
    /// </summary>
    public static Objective LikeImage(Models.Model model, Tensor image, string? layer = null, string name = "image")
    {
        layer ??= model.NumberedLayers().LastOrDefault() ?? model.OutputTap;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        var features = Models.ActivationLayout.ChannelsFirst(model.Run(batch, layer), batch);
        var direction = (features.dim() > 2 ? features.flatten(2).mean([2]) : features).mean([0]);
        return DirectionCosine(layer, direction.to_type(ScalarType.Float32).cpu().data<float>().ToArray(), name: $"like {name}");
    }

    /// <summary>Pre-softmax score of a class (Simonyan et al. 2013). Needs a classifier (a <c>logits</c> tap).</summary>
    public static Objective ClassLogit(int index, int? batch = null) =>
        Term($"logit {index}", "logits", batch, ctx => ChannelSlice(ctx, "logits", index));

    /// <summary>Pre-softmax score of the class with this label in the model's <c>Labels</c>.</summary>
    public static Objective ClassLogit(string label, int? batch = null) =>
        Term($"logit '{label}'", "logits", batch, ctx =>
        {
            var labels = ctx.Model.Labels;
            int index = labels.ToList().FindIndex(l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
                throw new InvalidSettingException(labels.Count == 0
                    ? $"model '{ctx.Model.Name}' has no class labels; give a class index or a labels file"
                    : $"model '{ctx.Model.Name}' has no class '{label}'; classes: {string.Join(", ", labels.Take(20))}{(labels.Count > 20 ? ", ..." : "")}");
            return ChannelSlice(ctx, "logits", index);
        });

    /// <summary>
    /// Style similarity across the batch, Lucid's diversity term (Olah et al. 2017): per item, the cosine similarity of
    /// its Gram matrix at <paramref name="layer"/> to the other items', summed and divided by the batch size. Subtract it
    /// with a weight from a batch render's objective (<c>Channel(..) - w * Diversity(..)</c>) to make the images differ.
    /// </summary>
    public static Objective Diversity(string layer) =>
        From(new ObjectiveTerm($"diversity {layer}", [layer], ctx =>
        {
            var a = ChannelsFirst(ctx, layer);
            long n = a.shape[0];
            if (n < 2) return zeros(n, dtype: a.dtype, device: a.device);
            var flat = a.flatten(2);                                         // [N,C,HW]
            var gram = matmul(flat, flat.transpose(1, 2)) / flat.shape[2];   // [N,C,C]
            var unit = F.normalize(gram.flatten(1), p: 2, dim: 1);
            var cosine = matmul(unit, unit.t());                             // [N,N]
            var others = cosine.sum(1) - cosine.diagonal();
            return others / n;
        }));

    static Objective Term(string description, string layer, int? batch, Func<ObjectiveContext, Tensor> perItem, IReadOnlyList<int>? channelsRead = null) =>
        From(new ObjectiveTerm(batch is { } b ? $"{description} [item {b}]" : description, [layer], ctx =>
        {
            var values = perItem(ctx);
            if (batch is not { } item) return values;
            if (item < 0 || item >= ctx.Batch)
                throw new InvalidSettingException($"objective '{description}' targets batch item {item}, but the batch has {ctx.Batch}");
            using var mask = zeros_like(values);
            mask[item].fill_(1);
            return values * mask;
        }) { ChannelsRead = channelsRead });

    // Channels in dimension 1 for every kind of tap: a transformer's tokens become a map of patches.
    static Tensor ChannelsFirst(ObjectiveContext ctx, string layer) => Models.ActivationLayout.ChannelsFirst(ctx[layer], ctx.Image);

    static Tensor ChannelSlice(ObjectiveContext ctx, string layer, int channel)
    {
        var a = ChannelsFirst(ctx, layer);
        if (a.dim() < 2) throw new InvalidSettingException($"layer '{layer}' has shape [{string.Join(",", a.shape)}]; it has no channels");
        if (channel < 0 || channel >= a.shape[1])
            throw new Models.ChannelOutOfRangeException($"layer '{layer}' has channels 0..{a.shape[1] - 1}; channel {channel} does not exist");
        return a.select(1, channel);
    }

    static (Tensor Activations, Tensor Unit) ActivationsAndUnit(ObjectiveContext ctx, string layer, float[] vector)
    {
        var a = ChannelsFirst(ctx, layer);
        if (a.shape[1] != vector.Length)
            throw new InvalidSettingException($"direction has {vector.Length} components but layer '{layer}' has {a.shape[1]} channels");
        var v = tensor(vector, dtype: a.dtype, device: a.device);
        v = v / v.norm().clamp_min(1e-12);
        var shape = Enumerable.Repeat(1L, (int)a.dim()).ToArray();
        shape[1] = vector.Length;
        return (a, v.reshape(shape));
    }
}
