using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace AlertBroker.Redis;

/// <summary>
/// The one place where a Redis connection is configured and opened: an endpoint string (one <c>host:port</c>, or several
/// comma-separated, as for a cluster or a primary with replicas; a host without a port means 6379, or 6380 with TLS;
/// StackExchange.Redis options after them are accepted) plus
/// the typed <see cref="RedisOptions"/> (ACL user, password, TLS) plus <see cref="RedisClientSettings"/> (timeouts, what to do
/// when the server is down). Every Redis connection of the project goes through here, so security settings apply to all
/// of them and connect failures come out as one typed exception.
/// </summary>
public static partial class RedisConnectionFactory
{
    /// <summary>
    /// The client configuration. Typed settings win over the same settings written in <paramref name="endpoints"/>
    /// (<c>user=</c>, <c>password=</c>, <c>ssl=</c>).
    /// </summary>
    /// <exception cref="ArgumentException">the endpoint string cannot be parsed, has an empty entry or names no endpoint (message redacted).</exception>
    public static ConfigurationOptions CreateConfiguration(string endpoints, RedisOptions? security = null, RedisClientSettings? client = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoints);

        // The parser skips empty entries, so "a:1,,b:1" (a host left out of a template) would connect to the others
        // without a word; an empty entry is a mistake in the setting.
        foreach (var entry in endpoints.Split(','))
        {
            if (string.IsNullOrWhiteSpace(entry))
            {
                throw new ArgumentException($"Redis endpoints '{Redact(endpoints)}' have an empty entry (two commas in a row, or a comma at the start or end): write host:port entries separated by single commas.");
            }

            if (EndpointProblem(entry.Trim()) is { } problem)
            {
                throw new ArgumentException($"Redis endpoints '{Redact(endpoints)}': {problem}; write host:port entries separated by single commas.");
            }
        }

        security ??= RedisOptions.None;
        client ??= new RedisClientSettings();
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(endpoints);
        }
        catch (ArgumentException e)
        {
            // No parameter name, here or from the parser's message: ArgumentException appends it ("(Parameter 'port')
            // Actual value was 99999. (Parameter 'endpoints')"), and these messages are shown to operators as they are.
            throw new ArgumentException($"Redis endpoints '{Redact(endpoints)}' cannot be parsed: {Redact(WithoutParameterNames(e.Message))}");
        }

        if (configuration.EndPoints.Count == 0)
        {
            throw new ArgumentException($"Redis endpoints '{Redact(endpoints)}' name no host:port.");
        }

        var timeout = (int)Math.Clamp(client.CommandTimeout.TotalMilliseconds, 1, int.MaxValue);
        configuration.SyncTimeout = timeout;
        configuration.AsyncTimeout = timeout;
        configuration.ConnectTimeout = Math.Min(timeout, 5000);
        configuration.ConnectRetry = Math.Max(1, client.ConnectRetry);
        configuration.AbortOnConnectFail = !client.WaitForServer;
        if (!string.IsNullOrEmpty(client.ClientName))
        {
            configuration.ClientName = client.ClientName;
        }

        if (!string.IsNullOrEmpty(security.User))
        {
            configuration.User = security.User;
        }

        if (!string.IsNullOrEmpty(security.Password))
        {
            configuration.Password = security.Password;
        }

        if (security.Tls)
        {
            configuration.Ssl = true;
            if (!string.IsNullOrEmpty(security.TlsCaFile))
            {
                // Trusts certificates chaining to this CA (the server's name is still checked against its certificate).
                configuration.TrustIssuer(security.TlsCaFile);
            }

            if (!string.IsNullOrEmpty(security.TlsCertificateFile))
            {
                configuration.SetUserPemCertificate(security.TlsCertificateFile, string.IsNullOrEmpty(security.TlsKeyFile) ? null : security.TlsKeyFile);
            }
        }

        // A host without a port gets StackExchange.Redis's default (6379, 6380 with TLS, 26379 for a sentinel), which the
        // client would only fill in when connecting: set here, so messages and logs show the port really used, not ":0".
        configuration.SetDefaultPorts();
        return configuration;
    }

    // What is wrong with one entry that the client's parser takes as a host (null: nothing, or an option such as ssl=true):
    // a URL ('redis://h:p' became the host 'redis://h:p' on port 6379), no host (':16391' the same), port 0 (replaced by
    // 6379 without a word, so a Redis there would be used).
    private static string? EndpointProblem(string entry)
    {
        if (entry.Contains('=', StringComparison.Ordinal))
        {
            return null;
        }

        if (entry.Contains("://", StringComparison.Ordinal))
        {
            return $"'{entry}' is a URL, not host:port";
        }

        var ipv6 = entry.StartsWith('[') || entry.Count(c => c == ':') > 1;
        if (ipv6)
        {
            return entry.StartsWith('[') && entry.EndsWith("]:0", StringComparison.Ordinal) ? $"'{entry}' has port 0" : null;
        }

        var colon = entry.IndexOf(':', StringComparison.Ordinal);
        return colon == 0 ? $"'{entry}' has no host"
            : colon > 0 && entry[(colon + 1)..].Trim() is { Length: > 0 } port && port.All(c => c == '0') ? $"'{entry}' has port 0"
            : null;
    }

    // A user whose password the server refuses, where the default user needs none: the client went on as the default
    // user (keys written, exit 0) though the server answered WRONGPASS. Asked of the first connected server (ACL WHOAMI,
    // Redis 6 and later); a server that cannot be asked (NOPERM, an older Redis) is taken at its word.
    private static async Task EnsureUserAsync(ConnectionMultiplexer connection, ConfigurationOptions configuration)
    {
        if (string.IsNullOrEmpty(configuration.User) || !string.IsNullOrEmpty(configuration.ServiceName))
        {
            return;
        }

        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (!server.IsConnected)
            {
                continue;
            }

            string? user;
            try
            {
                user = (string?)await server.ExecuteAsync("ACL", "WHOAMI").ConfigureAwait(false);
            }
            catch (RedisServerException)
            {
                return;
            }

            if (user is not null && user != configuration.User)
            {
                var endpoints = DescribeEndpoints(configuration);
                await connection.DisposeAsync().ConfigureAwait(false);
                throw new RedisConnectionFailedException(
                    RedisConnectFailure.Authentication,
                    endpoints,
                    $"Redis at {endpoints} refused the credentials of user '{configuration.User}': the connection is user '{user}' instead. Check the Redis user and password.",
                    null);
            }

            return;
        }
    }

    /// <summary>Configures (<see cref="CreateConfiguration"/>) and connects (<see cref="ConnectAsync(ConfigurationOptions, bool)"/>).</summary>
    /// <exception cref="RedisConnectionFailedException">credentials or TLS refused, or (unless <see cref="RedisClientSettings.WaitForServer"/>) no endpoint reachable.</exception>
    public static Task<ConnectionMultiplexer> ConnectAsync(string endpoints, RedisOptions? security = null, RedisClientSettings? client = null)
    {
        client ??= new RedisClientSettings();
        return ConnectAsync(CreateConfiguration(endpoints, security, client), client.WaitForServer);
    }

    /// <summary>
    /// Connects. A refused password or TLS handshake throws at once; an unreachable server throws too unless
    /// <paramref name="waitForServer"/>, in which case the returned connection keeps retrying in the background.
    /// Once connected, the connection reconnects by itself after any later outage.
    /// </summary>
    /// <exception cref="RedisConnectionFailedException">see above; the message never contains a password.</exception>
    public static async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration, bool waitForServer)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (waitForServer && await EveryEndpointRefusesAsync(configuration).ConfigureAwait(false))
        {
            // Nothing listens at any endpoint: no credentials or TLS to check now, so straight to the retrying connection.
            // The attempt below waits out the client's whole connect timeout (5 s) even for a refused connection, and the
            // web view (serve) and the worker listened only after it (11–15 s after start on two busy cores).
            var background = configuration.Clone();
            background.AbortOnConnectFail = false;
            return await ConnectionMultiplexer.ConnectAsync(background).ConfigureAwait(false);
        }

        var first = configuration.Clone();
        first.AbortOnConnectFail = true;
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(first).ConfigureAwait(false);
            await EnsureUserAsync(connection, configuration).ConfigureAwait(false);
            return connection;
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            var endpoints = DescribeEndpoints(configuration);
            var cause = Redact(e.InnerException?.Message ?? e.Message);
            throw IsTlsFailure(e, configuration)
                ? new RedisConnectionFailedException(
                    RedisConnectFailure.Tls,
                    endpoints,
                    $"TLS handshake with Redis at {endpoints} failed: {cause} The server may not speak TLS (then leave TLS off: no --redis-tls, AlertBroker__Redis__Tls=false); "
                        + "if it does, check that its certificate is issued by the configured CA (TlsCaFile) for the host name used, and any client certificate it requires.",
                    e)
                : new RedisConnectionFailedException(
                    RedisConnectFailure.Authentication,
                    endpoints,
                    $"Redis at {endpoints} refused the credentials{(string.IsNullOrEmpty(configuration.User) ? string.Empty : " of user '" + configuration.User + "'")}: {cause} Check the Redis user and password.",
                    e);
        }
        catch (RedisConnectionException) when (waitForServer)
        {
            var retrying = configuration.Clone();
            retrying.AbortOnConnectFail = false;
            return await ConnectionMultiplexer.ConnectAsync(retrying).ConfigureAwait(false);
        }
        catch (RedisConnectionException e)
        {
            var endpoints = DescribeEndpoints(configuration);
            throw new RedisConnectionFailedException(
                RedisConnectFailure.Unreachable,
                endpoints,
                $"Redis at {endpoints} is unreachable ({e.FailureType}): is it running and listening there{(configuration.Ssl ? ", with TLS" : ", without TLS (set Tls if it expects TLS)")}?"
                    + (string.IsNullOrEmpty(configuration.ServiceName) ? string.Empty : $" With serviceName={Redact(configuration.ServiceName)} these are Sentinels: does one of them monitor a primary of that name, and does it answer?"),
                e);
        }
    }

    // Whether every endpoint refuses a TCP connection at once (nothing listens there). An endpoint that does not answer
    // within a second, a name that does not resolve, or one of another kind (a Unix socket) counts as not refusing: the
    // client's own attempt then decides, as before.
    internal static async Task<bool> EveryEndpointRefusesAsync(ConfigurationOptions configuration)
    {
        if (configuration.EndPoints.Count == 0)
        {
            return false;
        }

        foreach (var endpoint in configuration.EndPoints)
        {
            var (host, port) = endpoint switch
            {
                IPEndPoint ip => (ip.Address.ToString(), ip.Port),
                DnsEndPoint dns => (dns.Host, dns.Port),
                _ => (null, 0),
            };
            if (host is null)
            {
                return false;
            }

            using var client = new System.Net.Sockets.TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
                return false;
            }
            catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused)
            {
                // Refused: look at the next one.
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException)
            {
                return false;
            }
        }

        return true;
    }

    // StackExchange.Redis reports a TLS handshake that fails as an authentication failure. Against a server without TLS the
    // cause is an IOException (the server answers the ClientHello with a RESP error, or closes), not an
    // AuthenticationException, which read as "refused the credentials … check the user and password".
    private static bool IsTlsFailure(RedisConnectionException e, ConfigurationOptions configuration)
    {
        if (!configuration.Ssl)
        {
            return false;
        }

        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException or IOException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The endpoints of a configuration as <c>host:port,host:port</c> (no options, so no password).</summary>
    public static string DescribeEndpoints(ConfigurationOptions configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var parts = new List<string>(configuration.EndPoints.Count);
        foreach (var endpoint in configuration.EndPoints)
        {
            parts.Add(endpoint switch
            {
                DnsEndPoint d => d.Host + ":" + d.Port.ToString(CultureInfo.InvariantCulture),
                IPEndPoint i => i.ToString(),
                _ => endpoint.ToString() ?? "?",
            });
        }

        return string.Join(",", parts);
    }

    /// <summary>
    /// A Redis connection string as it may be shown to anyone (a page, the JSON API, <c>/readyz</c>, a log line, a
    /// message): its endpoints only, <c>host:port,host:port</c> with the default ports filled in
    /// (<paramref name="tls"/>: 6380 rather than 6379), never its options, so never a user or a password written in it
    /// (<c>127.0.0.1:6379,user=u,password=p</c> is <c>127.0.0.1:6379</c>). A string that cannot be parsed is shown
    /// <see cref="Redact"/>ed. Until 2026-12-07 the web view showed the string as given, password included.
    /// </summary>
    public static string Describe(string? endpoints, bool tls = false)
    {
        if (string.IsNullOrWhiteSpace(endpoints))
        {
            return string.Empty;
        }

        try
        {
            var configuration = ConfigurationOptions.Parse(endpoints);
            configuration.Ssl |= tls;
            configuration.SetDefaultPorts();
            return configuration.EndPoints.Count == 0 ? Redact(endpoints) : DescribeEndpoints(configuration);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            return Redact(endpoints);
        }
    }

    /// <summary>
    /// A configuration string or message fit to print or log: the value of every <c>password=</c> option (any casing; the
    /// whole value up to the next comma or line end, as StackExchange.Redis splits its options by comma only, so a password
    /// may hold spaces) and the password of any <c>scheme://user:password@host</c> URI replaced by <c>*****</c>.
    /// </summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var redacted = PasswordOption().Replace(text, "$1*****");
        return UriPassword().Replace(redacted, "$1*****@");
    }

    /// <summary>An exception message without .NET's " (Parameter 'name')" suffixes and "Actual value was …" lines, on one line.</summary>
    internal static string WithoutParameterNames(string message) =>
        string.Join(' ', ParameterSuffix().Replace(message, string.Empty).Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith("Actual value was ", StringComparison.Ordinal)));

    [GeneratedRegex(@" ?\(Parameter '[^']*'\)")]
    private static partial Regex ParameterSuffix();

    // Until 2026-12-07 the value ended at the first whitespace too: "password=ab cd" was shown as "password=***** cd".
    [GeneratedRegex(@"((?:^|[,\s])\s*password\s*=\s*)[^,\r\n]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordOption();

    [GeneratedRegex(@"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UriPassword();
}
