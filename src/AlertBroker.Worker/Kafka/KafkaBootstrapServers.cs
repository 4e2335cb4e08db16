using System.Globalization;

namespace AlertBroker.Worker.Kafka;

/// <summary>
/// Checks a bootstrap-servers list (<c>host:port,host:port</c>) before librdkafka gets it. librdkafka takes nearly any
/// text and then fails to connect: "host:" became host:0, ":9092" localhost:9092, "a b" the host "a b", and a port above
/// 65535 wrapped (70000 connected to 4464) — each reported as Kafka not answering (exit 4) after the connection wait,
/// where it is a setting that cannot be right (exit 2, at once).
/// </summary>
internal static class KafkaBootstrapServers
{
    /// <summary>Why <paramref name="servers"/> cannot be a bootstrap-servers list; null when it can.</summary>
    public static string? Problem(string? servers)
    {
        if (string.IsNullOrWhiteSpace(servers))
        {
            return "it is empty";
        }

        foreach (var raw in servers.Split(','))
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                return $"'{servers}' has an empty entry (host:port entries are separated by single commas)";
            }

            if (entry.Any(char.IsWhiteSpace) || entry.Any(char.IsControl))
            {
                return $"'{entry}' holds a space (host:port entries are separated by commas)";
            }

            // A security-protocol prefix librdkafka accepts (PLAINTEXT://, SSL://, SASL_SSL://…).
            var scheme = entry.IndexOf("://", StringComparison.Ordinal);
            var address = scheme >= 0 ? entry[(scheme + 3)..] : entry;
            string host;
            string? port;
            if (address.StartsWith('['))
            {
                // [IPv6]:port
                var close = address.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    return $"'{entry}' opens '[' for an IPv6 address and does not close it";
                }

                host = address[1..close];
                var rest = address[(close + 1)..];
                if (rest.Length > 0 && !rest.StartsWith(':'))
                {
                    return $"'{entry}' has '{rest}' after its IPv6 address, where ':port' or nothing goes";
                }

                port = rest.Length == 0 ? null : rest[1..];
            }
            else if (address.Count(c => c == ':') > 1)
            {
                // A bare IPv6 address: librdkafka reads it without a port.
                host = address;
                port = null;
            }
            else
            {
                var colon = address.IndexOf(':', StringComparison.Ordinal);
                host = colon < 0 ? address : address[..colon];
                port = colon < 0 ? null : address[(colon + 1)..];
            }

            if (host.Length == 0)
            {
                return $"'{entry}' has no host (host:port)";
            }

            if (port is not null && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535))
            {
                return $"'{entry}' has the port '{port}'; a port is a number from 1 to 65535";
            }
        }

        return null;
    }

    /// <summary>
    /// The pass-through setting among <paramref name="properties"/> that would replace the servers (or the consumer group)
    /// given by their own option with another value (<c>bootstrap.servers</c>, its alias <c>metadata.broker.list</c>,
    /// <c>group.id</c>). librdkafka takes the last value set, so such a setting
    /// connected somewhere else than every message (and the group check) said.
    /// </summary>
    /// <returns>The setting's name and value, and whether it names the group (else the servers); null when none does.</returns>
    public static (string Name, string Value, bool Group)? Overridden(IEnumerable<KeyValuePair<string, string>> properties, string servers, string? group)
    {
        ArgumentNullException.ThrowIfNull(properties);
        foreach (var (name, value) in properties)
        {
            var isServers = name.Equals("bootstrap.servers", StringComparison.OrdinalIgnoreCase) || name.Equals("metadata.broker.list", StringComparison.OrdinalIgnoreCase);
            var isGroup = group is not null && name.Equals("group.id", StringComparison.OrdinalIgnoreCase);
            if ((isServers && !string.Equals(value.Trim(), servers.Trim(), StringComparison.Ordinal)) || (isGroup && !string.Equals(value, group, StringComparison.Ordinal)))
            {
                return (name, value, isGroup);
            }
        }

        return null;
    }
}
