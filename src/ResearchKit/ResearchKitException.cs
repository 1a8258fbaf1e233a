using System.Globalization;

namespace ResearchKit;

/// <summary>Every failure the kit reports on purpose, with a message that names what failed.</summary>
public class ResearchKitException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A failure the user can fix — a missing or unreadable file, an unknown layer, a setting out of range, a device this
/// build lacks. The command line prints the message as one line and exits with code 1; any other exception is a bug
/// in the kit or below it (exit code 2).
/// </summary>
public class UserErrorException(string message, Exception? inner = null) : ResearchKitException(message, inner);

/// <summary>A setting — an argument, an option, a record's property — outside what the kit accepts; the message says what would do.</summary>
public sealed class InvalidSettingException : UserErrorException
{
    /// <summary>The message, naming the setting (and its value) where the message does not already.</summary>
    public InvalidSettingException(string message, string? setting = null, object? value = null)
        : base(setting is null || message.Contains(setting, StringComparison.Ordinal) ? message
            : string.Create(CultureInfo.InvariantCulture, $"{message} ({setting}{(value is null ? "" : $" = {value}")})"))
    {
        Setting = setting;
    }

    /// <summary>The setting's name, when known.</summary>
    public string? Setting { get; }
}

/// <summary>A file or folder the user named does not exist (or holds nothing usable).</summary>
public sealed class InputNotFoundException(string message, string? path = null) : UserErrorException(message)
{
    /// <summary>The path, when known.</summary>
    public string? Path { get; } = path;
}

/// <summary>A file or folder the user gave is not what the kit can read: corrupt, of another format, or made with other settings.</summary>
public class InvalidFileException(string message, Exception? inner = null) : UserErrorException(message, inner);
