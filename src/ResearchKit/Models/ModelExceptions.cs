namespace ResearchKit.Models;

/// <summary>A model file could not be read: it is missing, not ONNX, truncated or inconsistent.</summary>
public class ModelLoadException(string message, Exception? inner = null) : UserErrorException(message, inner);

/// <summary>A model uses an operator the importer does not implement.</summary>
public sealed class UnsupportedOperatorException(string message) : ModelLoadException(message);

/// <summary>A tap (layer) name that the model does not have; the message lists the ones it has.</summary>
public sealed class UnknownTapException(string message) : UserErrorException(message);

/// <summary>A channel index outside a tap's channel range.</summary>
public sealed class ChannelOutOfRangeException(string message) : UserErrorException(message);

/// <summary>A class-label file is missing, empty or malformed; the message names the file (and line).</summary>
public sealed class LabelFileException(string message, Exception? inner = null) : ModelLoadException(message, inner);

/// <summary>A class name or index the model does not have; the message lists near matches or the valid range.</summary>
public sealed class UnknownClassException(string message) : UserErrorException(message);

/// <summary>A file is not a usable PyTorch state dict, or does not fit the module; the message names the file and the mismatch.</summary>
public sealed class StateDictException(string message, Exception? inner = null) : ModelLoadException(message, inner);

/// <summary>
/// A network could not compute a value for the input it was given, e.g. an image too small for a layer's pooling;
/// the message names the model file, the node and the input shapes.
/// </summary>
public sealed class ModelRunException(string file, string failure, Exception? inner = null)
    : UserErrorException($"{file}: {failure}", inner)
{
    /// <summary>What failed (node and input shapes), without the file name.</summary>
    public string Failure { get; } = failure;
}
