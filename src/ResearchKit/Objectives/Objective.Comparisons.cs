using ResearchKit.Imaging;
using static TorchSharp.torch;
using static ResearchKit.Priors.NaturalImageScale;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Objectives;

// Objectives that compare the rendered image's activations at a layer with a photo's, position by position. The target
// is computed once. Robustness transforms (padding, scaling, rotation) change the size of the rendered activations, so
// each step the target map is resized (bilinearly, antialiased when shrinking) to the activations' size: a jittered or
// scaled render is compared with the photo's map stretched to the same grid, which is exact without transforms and off
// by at most the transforms' few-pixel shifts with them. Lucid's recipe instead runs the photo through the same
// transforms in the same batch; this engine keeps the photo out of the optimized batch. They compare whole maps, so a
// tiled render (each tile compared with the whole photo) does not suit them.
public sealed partial class Objective
{
    /// <summary>
    /// Feature inversion (Mahendran &amp; Vedaldi 2015): −‖Φ(x) − Φ₀‖² / ‖Φ₀‖² per image, where Φ₀ is
    /// <paramref name="photo"/>'s activation at <paramref name="layer"/>. 0 when the activations equal the photo's, −1
    /// for silent activations; maximizing it reconstructs what the layer keeps of the photo. Render it with the
    /// paper's penalties: <see cref="Rendering.Render.Inversion"/>.
    /// </summary>
    public static Objective Inversion(Models.Model model, Tensor photo, string layer, string name = "photo")
    {
        using var target = TargetActivations(model, photo, layer);
        return Inversion(layer, target, name);
    }

    /// <summary><see cref="Inversion(Models.Model, Tensor, string, string)"/> against given target activations ([1,C,H,W], [C,H,W] or [1,C]).</summary>
    public static Objective Inversion(string layer, Tensor target, string name = "target") =>
        Comparison($"inversion {layer} of {name}", layer, target, (a, t) => -(a - t).square().sum(1) / t.square().sum().clamp_min(1e-12));

    /// <summary>
    /// Caricature (Lucid's <c>caricature</c> recipe, objective <c>dot_compare</c>): per image, the dot product of its
    /// activations with <paramref name="photo"/>'s at <paramref name="layer"/>, divided by the photo's squared norm,
    /// times max(cosine, 0.1)^<paramref name="cosinePower"/>. It is 1 when the activations equal the photo's and grows
    /// as they point the same way more strongly, so maximizing it exaggerates what the layer sees in the photo. Unlike
    /// Lucid's, the cosine is a true cosine (Lucid divides the dot product by one norm only) and the value is divided
    /// by ‖Φ₀‖² so that it reads the same at every layer. Render it with <see cref="Rendering.Render.Caricature"/>.
    /// </summary>
    public static Objective Caricature(Models.Model model, Tensor photo, string layer, double cosinePower = 1, string name = "photo")
    {
        using var target = TargetActivations(model, photo, layer);
        return Caricature(layer, target, cosinePower, name);
    }

    /// <summary><see cref="Caricature(Models.Model, Tensor, string, double, string)"/> against given target activations ([1,C,H,W], [C,H,W] or [1,C]).</summary>
    public static Objective Caricature(string layer, Tensor target, double cosinePower = 1, string name = "target")
    {
        if (!(cosinePower >= 0) || !double.IsFinite(cosinePower))
            throw new InvalidSettingException("the cosine power must be finite and at least 0", nameof(cosinePower), cosinePower);
        return Comparison($"caricature {layer} of {name} (cosine^{F(cosinePower)})", layer, target, (a, t) =>
        {
            var dot = (a * t).sum(1) / t.square().sum().clamp_min(1e-12);
            var cosine = F.cosine_similarity(a, t.expand_as(a), dim: 1, eps: 1e-12);
            return dot * cosine.clamp_min(0.1).pow(cosinePower);
        });
    }

    /// <summary>
    /// <paramref name="photo"/>'s activations ([N,3,H,W] or [3,H,W] in [0,1]; the first image) at
    /// <paramref name="layer"/>, channels first, on the CPU and owned by the caller: the target of
    /// <see cref="Inversion(string, Tensor, string)"/> and <see cref="Caricature(string, Tensor, double, string)"/>.
    /// </summary>
    public static Tensor TargetActivations(Models.Model model, Tensor photo, string layer)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = photo.dim() == 3 ? photo.unsqueeze(0) : photo;
        Parameterizations.ImageTensors.RequireBatch(batch, nameof(photo));
        var image = batch[..1].to(model.Device);
        var activations = Models.ActivationLayout.ChannelsFirst(model.Run(image, layer), image);
        return activations.cpu().clone().DetachFromDisposeScope();
    }

    // compare(activations [N,D], target [1,D]) → [N], the target first brought to the activations' spatial size.
    static Objective Comparison(string description, string layer, Tensor target, Func<Tensor, Tensor, Tensor> compare)
    {
        if (target.dim() is 2 or 4 && target.shape[0] != 1)
            throw new InvalidSettingException($"target activations for '{description}' must be one image's; got shape [{string.Join(",", target.shape)}]");
        Tensor kept;
        using (NewDisposeScope())
            kept = (target.dim() is 1 or 3 ? target.unsqueeze(0) : target).detach().clone().DetachFromDisposeScope();
        return Custom(description, [layer], ctx =>
        {
            var a = ChannelsFirst(ctx, layer);
            if (a.dim() != kept.dim() || a.shape[1] != kept.shape[1])
                throw new InvalidSettingException($"layer '{layer}' gives activations of shape [{string.Join(",", a.shape)}], " +
                    $"which do not match the target's [{string.Join(",", kept.shape)}]; compute the target at the same layer of the same model");
            var t = kept.to(a.dtype, a.device);
            if (a.dim() == 4 && (a.shape[2] != t.shape[2] || a.shape[3] != t.shape[3]))
                t = ImageOps.Resize(t, (int)a.shape[2], (int)a.shape[3]);
            return compare(a.flatten(1), t.flatten(1));
        });
    }
}
