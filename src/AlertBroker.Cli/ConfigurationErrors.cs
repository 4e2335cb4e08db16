using System.Globalization;
using System.Text.RegularExpressions;
using AlertBroker.Worker.Hosting;
using Spectre.Console;

namespace AlertBroker.Cli;

/// <summary>
/// Turns the configuration binder's conversion failure ("Failed to convert configuration value 'Gssapi' at
/// 'AlertBroker:Kafka:SaslMechanism' to type 'AlertBroker.Worker.Hosting.KafkaSaslMechanism'") into a line an operator
/// can act on: the key, the value, and what the key accepts (an enum's names, true/false, a whole number …).
/// </summary>
internal static partial class ConfigurationErrors
{
    private const string Prefix = "Failed to convert configuration value";

    /// <summary>Whether <paramref name="e"/> is the configuration binder's "cannot convert this value" failure.</summary>
    public static bool IsConversionFailure(Exception e) =>
        e is InvalidOperationException && e.Message.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// Whether <paramref name="e"/>, thrown while a host (<c>run</c>, <c>serve</c>) starts, is a setting to fix: a value
    /// the binder cannot convert, an HTTP port that cannot be bound, an address that is not this host's.
    /// </summary>
    public static bool IsHostStartError(Exception e) =>
        IsConversionFailure(e)
        || (e is IOException && e.Message.Contains("bind", StringComparison.OrdinalIgnoreCase))
        || e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressNotAvailable };

    /// <summary>Prints the line for an <see cref="IsHostStartError"/> exception and returns its exit code (2).</summary>
    public static int ReportHostStartError(Exception e, string portAdvice)
    {
        ArgumentNullException.ThrowIfNull(e);
        var line = e switch
        {
            InvalidOperationException conversion when IsConversionFailure(conversion) => "[red]invalid configuration:[/] " + Markup.Escape(Describe(conversion)),
            IOException => "[red]AlertBroker:Telemetry:HttpAddress/HttpPort:[/] " + Markup.Escape(e.Message) + " " + Markup.Escape(portAdvice),

            // An address that is not this host's: a configuration error like a taken port, not a fatal one.
            _ => "[red]invalid configuration:[/] AlertBroker:Telemetry:HttpAddress: " + Markup.Escape(e.Message) + " (not an address of this host; 127.0.0.1 for loopback, 0.0.0.0 for every interface)",
        };
        CliHelpers.Stderr.MarkupLine(line);
        return 2;
    }

    /// <summary>"KEY: 'VALUE' is not …; one of A, B or C", or the binder's own message when it has another shape.</summary>
    public static string Describe(InvalidOperationException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var match = ConversionMessage().Match(e.Message);
        if (!match.Success)
        {
            return e.Message;
        }

        var value = match.Groups["value"].Value;
        var key = match.Groups["key"].Value;
        var typeName = match.Groups["type"].Value;
        var nullable = NullableOf().Match(typeName);
        if (nullable.Success)
        {
            typeName = nullable.Groups["inner"].Value;
        }

        return $"{key}: '{value}' {Expected(typeName)}";
    }

    private static string Expected(string typeName)
    {
        switch (typeName)
        {
            case "System.Boolean":
                return "is not true or false";
            case "System.Int32" or "System.Int64" or "System.Int16" or "System.Byte":
                return "is not a whole number";
            case "System.UInt32" or "System.UInt64" or "System.UInt16":
                return "is not a whole number ≥ 0";
            case "System.Double" or "System.Single" or "System.Decimal":
                return "is not a number (write it with a point: 0.5)";
            case "System.TimeSpan":
                return "is not a time span ([d.]hh:mm:ss, e.g. 00:00:30)";
            case "System.Uri":
                return "is not a URL";
        }

        if (FindType(typeName) is { IsEnum: true } enumType)
        {
            var names = Enum.GetNames(enumType);
            var list = names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
            var hint = enumType == typeof(KafkaSaslMechanism)
                ? " (GSSAPI/Kerberos is not offered: the packaged librdkafka is built without it)"
                : string.Empty;
            return $"is not one of {list}{hint}";
        }

        var dot = typeName.LastIndexOf('.');
        return string.Create(CultureInfo.InvariantCulture, $"cannot be read as {(dot >= 0 ? typeName[(dot + 1)..] : typeName)}");
    }

    private static Type? FindType(string fullName)
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.GetType(fullName, throwOnError: false) is { } type)
            {
                return type;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'\.?$", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex ConversionMessage();

    [GeneratedRegex(@"^System\.Nullable`1\[\[(?<inner>[^,\]]+)", RegexOptions.CultureInvariant)]
    private static partial Regex NullableOf();
}
