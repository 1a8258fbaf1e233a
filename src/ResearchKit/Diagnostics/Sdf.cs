using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Signed distance functions of 2-D shapes evaluated on coordinate tensors (negative inside), after Inigo Quilez's
/// catalogue. Coordinates and sizes are in the same units; arguments broadcast.
/// </summary>
static class Sdf
{
    public static Tensor Circle(Tensor u, Tensor v, Tensor radius) => sqrt(u * u + v * v) - radius;

    public static Tensor Box(Tensor u, Tensor v, Tensor halfWidth, Tensor halfHeight)
    {
        var qx = u.abs() - halfWidth;
        var qy = v.abs() - halfHeight;
        var outside = sqrt(qx.clamp_min(0).pow(2) + qy.clamp_min(0).pow(2));
        var inside = maximum(qx, qy).clamp_max(0);
        return outside + inside;
    }

    public static Tensor Ring(Tensor u, Tensor v, Tensor radius, Tensor halfThickness) =>
        (sqrt(u * u + v * v) - radius).abs() - halfThickness;

    /// <summary>Equilateral triangle centred on the origin, pointing up (+v), with half side <paramref name="r"/>.</summary>
    public static Tensor Triangle(Tensor u, Tensor v, Tensor r)
    {
        double k = Math.Sqrt(3);
        var x = u.abs() - r;
        var y = v + r / k;
        var fold = (x + k * y) > 0;
        var fx = where(fold, (x - k * y) / 2, x);
        var fy = where(fold, (-k * x - y) / 2, y);
        fx = fx - minimum(maximum(fx, -2 * r), zeros_like(fx));
        return -sqrt(fx * fx + fy * fy) * fy.sign();
    }

    /// <summary>A five-pointed star: radius oscillating between <paramref name="inner"/> and inner + <paramref name="spike"/>.</summary>
    public static Tensor Star(Tensor u, Tensor v, Tensor inner, Tensor spike)
    {
        var rho = sqrt(u * u + v * v);
        var phi = atan2(v, u);
        var radius = inner + spike * (0.5 + 0.5 * cos(5 * phi)).pow(1.5);
        // Radial distance overstates the true distance near the spikes; the factor keeps edges about a pixel wide.
        return 0.6 * (rho - radius);
    }

    /// <summary>
    /// A tapered capsule from the origin along (<paramref name="dx"/>, <paramref name="dy"/>) (a unit vector) for
    /// <paramref name="length"/>, radius growing linearly from <paramref name="r0"/> to <paramref name="r1"/> over
    /// the first <paramref name="taper"/> units. Also returns the signed distance across the axis (for shading).
    /// </summary>
    public static (Tensor Distance, Tensor Across) Limb(Tensor u, Tensor v, Tensor dx, Tensor dy, double length, Tensor r0, Tensor r1, double taper)
    {
        var t = (u * dx + v * dy).clamp(0, length);
        var px = u - t * dx;
        var py = v - t * dy;
        var radius = r0 + (r1 - r0) * (t / taper).clamp_max(1);
        var across = u * dy - v * dx;
        return (sqrt(px * px + py * py) - radius, across / radius);
    }

    /// <summary>Anti-aliased coverage in [0,1] of a shape whose distance is in units of <paramref name="pixelsPerUnit"/>.</summary>
    public static Tensor Coverage(Tensor distance, Tensor pixelsPerUnit) => (0.5 - distance * pixelsPerUnit).clamp(0, 1);
}
