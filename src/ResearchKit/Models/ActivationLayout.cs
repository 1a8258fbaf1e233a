using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>How a tap's values are arranged, so that "channel" and "position" mean the same for every kind of network.</summary>
public enum ActivationKind
{
    /// <summary>A convolutional feature map [N,C,H,W].</summary>
    FeatureMap,

    /// <summary>A transformer's token sequence [N,T,D]: leading class tokens, then one token per patch, row by row.</summary>
    Tokens,

    /// <summary>One vector per image [N,C] (pooled features, logits).</summary>
    Vector,

    /// <summary>Anything else; channels are dimension 1 where there is one.</summary>
    Other,
}

/// <summary>
/// Where a tap's channels and positions are. Convolutional maps are [N,C,H,W]. A vision transformer's tokens are
/// [N,T,D]: the channels are the D features, and the T tokens are up to 8 leading extra tokens (ViT's class token,
/// DeiT's distillation token) followed by the patches of an h × w grid in row order; a 3-D tap is read as tokens when
/// such a grid, with the image's aspect ratio and at least 2 × 2 patches, accounts for its tokens. A 3-D tap whose
/// first dimension holds several maps per image (PyTorch's attention weights, [N·heads, T, T]) is a feature map with one
/// channel per head. Objectives view every tap through <see cref="ChannelsFirst"/>, so a channel of a transformer layer
/// is a feature at every patch (the class token left out), a neuron's position is a patch, and a channel of an
/// attention map is a head.
/// </summary>
/// <param name="Kind">The arrangement.</param>
/// <param name="Channels">Channels (features) per position; 0 when the tap has none.</param>
/// <param name="Height">Rows of positions (patch rows for tokens; 1 for vectors).</param>
/// <param name="Width">Columns of positions.</param>
/// <param name="ExtraTokens">Leading tokens that are not patches (the class token), for <see cref="ActivationKind.Tokens"/>.</param>
public sealed record ActivationLayout(ActivationKind Kind, long Channels, long Height, long Width, long ExtraTokens = 0)
{
    const int MaxExtraTokens = 8;

    /// <summary>The layout of a tap of shape <paramref name="shape"/> for one image of the given size.</summary>
    public static ActivationLayout Of(long[] shape, long imageHeight, long imageWidth)
    {
        if (shape.Length == 3 && shape[0] > 1) return new(ActivationKind.FeatureMap, shape[0], shape[1], shape[2]);
        if (shape.Length == 3 && PatchGrid(shape[1], imageHeight, imageWidth) is { } grid)
            return new(ActivationKind.Tokens, shape[2], grid.Height, grid.Width, grid.Extra);
        return shape.Length switch
        {
            4 => new(ActivationKind.FeatureMap, shape[1], shape[2], shape[3]),
            2 => new(ActivationKind.Vector, shape[1], 1, 1),
            3 => new(ActivationKind.Other, shape[1], 1, shape[2]),
            _ => new(ActivationKind.Other, shape.Length > 1 ? shape[1] : 0, 1, 1),
        };
    }

    /// <summary>
    /// The activation with channels in dimension 1 and positions after it: feature maps and vectors as they are,
    /// tokens [N,T,D] as a patch map [N,D,h,w] without the extra tokens. <paramref name="image"/> is the input batch
    /// (its aspect ratio places the patches).
    /// </summary>
    public static Tensor ChannelsFirst(Tensor activation, Tensor image)
    {
        if (activation.dim() != 3) return activation;
        long images = image.shape[0], first = activation.shape[0];
        if (first != images && first % images == 0) return activation.reshape(images, first / images, activation.shape[1], activation.shape[2]);
        var layout = Of(activation.shape, image.shape[^2], image.shape[^1]);
        return layout.Kind != ActivationKind.Tokens ? activation
            : activation.narrow(1, layout.ExtraTokens, layout.Height * layout.Width)
                .reshape(activation.shape[0], layout.Height, layout.Width, layout.Channels).permute(0, 3, 1, 2);
    }

    /// <summary>
    /// Mean of every channel over positions (over the patches, for tokens) for batch item <paramref name="item"/>:
    /// which channels fire, and how strongly.
    /// </summary>
    public static float[] ChannelMeans(Tensor activation, Tensor image, int item = 0)
    {
        using var scope = NewDisposeScope();
        var a = ChannelsFirst(activation, image);
        var means = a.dim() > 2 ? a.flatten(2).mean([2]) : a;
        return means[item].to_type(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    // The fewest extra tokens whose remainder fills an h × w grid with h : w = height : width.
    static (long Extra, long Height, long Width)? PatchGrid(long tokens, long height, long width)
    {
        for (long extra = 0; extra <= MaxExtraTokens && tokens - extra >= 4; extra++)
        {
            long patches = tokens - extra;
            long h = (long)Math.Round(Math.Sqrt(patches * (double)height / width));
            if (h >= 2 && patches % h == 0 && patches / h >= 2 && h * width == patches / h * height) return (extra, h, patches / h);
        }
        return null;
    }
}
