namespace ResearchKit.Models;

/// <summary>How an RGB image with values in [0,1] becomes the network's input tensor.</summary>
public enum InputNormalization
{
    /// <summary>What the model itself expects (for the packaged ResNet-18: BGR, 0–255, minus a per-pixel mean image).</summary>
    Model,
    /// <summary>torchvision's ImageNet convention: RGB, (x − mean) / std with mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    ImageNet,
    /// <summary>RGB in [0,1] as is.</summary>
    None,
}
