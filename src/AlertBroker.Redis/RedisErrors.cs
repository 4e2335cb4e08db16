using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace AlertBroker.Redis;

/// <summary>
/// A client-side Redis failure in a line an operator can read. StackExchange.Redis appends its whole diagnostic state
/// to a timeout or a lost connection ("…, Idle/RanToCompletion, last: SETEX, origin: ReadAllAsync, outstanding: 0, …,
/// IOCP: (Busy=0,…), POOL: (…), v: 3.4.35 (see https://…)"): about 1.5 KB, logged on every retry of a batch during an
/// outage. <see cref="Brief(Exception)"/> keeps what failed and where; the full text stays on the exception.
/// </summary>
public static partial class RedisErrors
{
    /// <summary>
    /// The message of <paramref name="e"/> up to the client's diagnostics, password-free (<see cref="RedisConnectionFactory.Redact"/>).
    /// A server's error reply (<see cref="RedisServerException"/>: Redis's own words) and any other exception's message are
    /// kept whole.
    /// </summary>
    public static string Brief(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var message = e.Message;
        if (e is RedisTimeoutException or (RedisException and not RedisServerException))
        {
            message = Brief(message);
        }

        return RedisConnectionFactory.Redact(message);
    }

    /// <summary>
    /// Whether <paramref name="e"/> is Redis's reply to a command on a key of another type (another program's key under the
    /// same prefix), or the registry's own check saying so: <c>WRONGTYPE …</c>.
    /// </summary>
    public static bool IsWrongType(Exception? e) => IsReply(e, "WRONGTYPE");

    /// <summary>Whether <paramref name="e"/> is Redis's refusal by the user's ACL: <c>NOPERM …</c>.</summary>
    public static bool IsNoPermission(Exception? e) => IsReply(e, "NOPERM");

    private static bool IsReply(Exception? e, string code) => e is RedisServerException && e.Message.StartsWith(code, StringComparison.Ordinal);

    /// <summary>A StackExchange.Redis client message cut before its diagnostics (see the type's summary).</summary>
    public static string Brief(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        for (var m = Diagnostics().Match(message); m.Success; m = m.NextMatch())
        {
            // "Timeout awaiting response (outbound=0KiB, inbound=0KiB, 5000ms elapsed, …)": a field inside parentheses is
            // part of what is said.
            if (!InsideParentheses(message, m.Index))
            {
                // "Timeout performing GET (5000ms)" names no server; the diagnostics do.
                var brief = message[..m.Index];
                var server = ServerEndpoint().Match(message, m.Index);
                return server.Success && !brief.Contains(server.Groups[1].Value, StringComparison.Ordinal)
                    ? $"{brief} (server {server.Groups[1].Value})"
                    : brief;
            }
        }

        return message;
    }

    private static bool InsideParentheses(string text, int index)
    {
        var depth = 0;
        foreach (var c in text.AsSpan(0, index))
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        }

        return depth > 0;
    }

    // The first diagnostic field: ", name: " / ", name=" (next, inst, qu, last, command, mc, serverEndpoint, …), a
    // connection state pair (", Idle/RanToCompletion", ", Initializing/NotStarted"), or the trailing link to the client's
    // timeout page.
    [GeneratedRegex(@",\s(?:[A-Za-z][A-Za-z-]*(?::\s|=)|[A-Z][A-Za-z]*/[A-Z][A-Za-z]*\b)|\s\((?:see|Please take a look at)\s", RegexOptions.CultureInvariant)]
    private static partial Regex Diagnostics();

    [GeneratedRegex(@"serverEndpoint: ([^,\s]+)", RegexOptions.CultureInvariant)]
    private static partial Regex ServerEndpoint();
}
