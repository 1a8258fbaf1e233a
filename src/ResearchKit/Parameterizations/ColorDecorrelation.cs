using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>
/// Lucid's decorrelated colour space. Natural images' RGB channels are strongly correlated; optimizing in a space
/// whitened by the square root of ImageNet's colour covariance lets each parameter move one statistically independent
/// colour direction, so gradient steps do not all pile into luminance.
/// </summary>
public static class ColorDecorrelation
{
    // Square root of ImageNet's RGB covariance (from its SVD), as published with Lucid (Olah et al. 2017).
    static readonly double[,] SquareRoot =
    {
        { 0.26, 0.09, 0.02 },
        { 0.27, 0.00, -0.05 },
        { 0.27, -0.09, 0.03 },
    };

    /// <summary>
    /// The matrix M with rgb = M · decorrelated, per pixel: Lucid's square-root matrix
    /// [[0.26, 0.09, 0.02], [0.27, 0.00, −0.05], [0.27, −0.09, 0.03]] divided by its largest column norm, so that a unit
    /// step along any one decorrelated axis moves the colour by at most one unit (Euclidean).
    /// </summary>
    public static double[,] Matrix { get; } = Normalize(SquareRoot);

    /// <summary>The inverse of <see cref="Matrix"/>: decorrelated = M⁻¹ · rgb.</summary>
    public static double[,] InverseMatrix { get; } = Invert(Matrix);

    /// <summary>Maps a decorrelated [N,3,H,W] tensor to (unsquashed) RGB.</summary>
    public static Tensor ToRgb(Tensor decorrelated) => Mix(Matrix, decorrelated, nameof(decorrelated));

    /// <summary>Maps an RGB [N,3,H,W] tensor to the decorrelated space (the exact inverse of <see cref="ToRgb"/>).</summary>
    public static Tensor FromRgb(Tensor rgb) => Mix(InverseMatrix, rgb, nameof(rgb));

    static Tensor Mix(double[,] matrix, Tensor input, string paramName)
    {
        ImageTensors.RequireRgb(input, paramName);
        using var m = MatrixTensor(matrix, input.dtype, input.device);
        return einsum("ij,njhw->nihw", m, input);
    }

    static Tensor MatrixTensor(double[,] matrix, ScalarType dtype, Device device)
    {
        var flat = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                flat[i * 3 + j] = matrix[i, j];
        return tensor(flat, [3, 3], dtype: dtype, device: device);
    }

    static double[,] Normalize(double[,] m)
    {
        double maxNorm = 0;
        for (int j = 0; j < 3; j++)
            maxNorm = Math.Max(maxNorm, Math.Sqrt(m[0, j] * m[0, j] + m[1, j] * m[1, j] + m[2, j] * m[2, j]));
        var result = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                result[i, j] = m[i, j] / maxNorm;
        return result;
    }

    static double[,] Invert(double[,] m)
    {
        double det = m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
                   - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
                   + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);
        var inv = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                // Cofactor of (j, i): the adjugate is the transposed cofactor matrix.
                int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
                inv[i, j] = (m[r0, c0] * m[r1, c1] - m[r0, c1] * m[r1, c0]) / det;
            }
        return inv;
    }
}
