using System.CommandLine;
using AlertBroker.Redis;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>--redis-user</c>, <c>--redis-password</c> (default <c>$ALERTBROKER_REDIS_PASSWORD</c>), <c>--redis-tls</c>,
/// <c>--redis-ca</c>, <c>--redis-cert</c>, <c>--redis-key</c>: the <c>AlertBroker:Redis</c> settings on the command line of
/// every command that takes <c>--redis</c>.
/// </summary>
internal sealed class RedisCliOptions
{
    public const string PasswordVariable = "ALERTBROKER_REDIS_PASSWORD";

    public Option<string?> User { get; } = new("--redis-user") { Description = "Redis ACL user (AlertBroker:Redis:User)." };

    public Option<string?> Password { get; } = new("--redis-password")
    {
        Description = $"Password of the Redis user (AlertBroker:Redis:Password). Default: ${PasswordVariable}; prefer the variable, since arguments are visible to other local users.",
    };

    public Option<bool> Tls { get; } = new("--redis-tls") { Description = "Connect to Redis over TLS (AlertBroker:Redis:Tls)." };

    public Option<string?> Ca { get; } = new("--redis-ca") { Description = "PEM file of the CA that issued the Redis server's certificate; implies --redis-tls (AlertBroker:Redis:TlsCaFile)." };

    public Option<string?> Certificate { get; } = new("--redis-cert") { Description = "PEM client certificate for Redis servers that require one; implies --redis-tls (AlertBroker:Redis:TlsCertificateFile)." };

    public Option<string?> Key { get; } = new("--redis-key") { Description = "PEM private key of --redis-cert (AlertBroker:Redis:TlsKeyFile)." };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var o in new Option[] { User, Password, Tls, Ca, Certificate, Key })
        {
            command.Options.Add(o);
        }
    }

    /// <summary>The settings given, the password falling back to <c>$ALERTBROKER_REDIS_PASSWORD</c>; null (after printing every problem) when they are unusable.</summary>
    public RedisOptions? Read(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var ca = parse.GetValue(Ca);
        var certificate = parse.GetValue(Certificate);
        var options = new RedisOptions
        {
            User = parse.GetValue(User),
            Password = parse.GetValue(Password) ?? NullIfEmpty(Environment.GetEnvironmentVariable(PasswordVariable)),
            Tls = parse.GetValue(Tls) || ca is not null || certificate is not null,
            TlsCaFile = ca,
            TlsCertificateFile = certificate,
            TlsKeyFile = parse.GetValue(Key),
        };
        var problems = options.Validate(CliName);
        if (problems.Count == 0)
        {
            return options;
        }

        CliHelpers.Stderr.MarkupLine("[red]invalid Redis settings:[/]");
        foreach (var p in problems)
        {
            CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(p));
        }

        return null;
    }

    /// <summary>For <c>run</c>: the options given on the command line as configuration overrides (validated with the rest of the configuration).</summary>
    public void AddOverrides(ParseResult parse, IDictionary<string, string?> overrides)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(overrides);
        const string Section = RedisOptions.Section + ":";
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                overrides[Section + key] = value;
            }
        }

        Set(nameof(RedisOptions.User), parse.GetValue(User));
        Set(nameof(RedisOptions.Password), parse.GetValue(Password));
        var ca = parse.GetValue(Ca);
        var certificate = parse.GetValue(Certificate);
        if (parse.GetValue(Tls) || ca is not null || certificate is not null)
        {
            Set(nameof(RedisOptions.Tls), "true");
        }

        Set(nameof(RedisOptions.TlsCaFile), ca);
        Set(nameof(RedisOptions.TlsCertificateFile), certificate);
        Set(nameof(RedisOptions.TlsKeyFile), parse.GetValue(Key));
    }

    private static string CliName(string property) => property switch
    {
        nameof(RedisOptions.User) => "--redis-user",
        nameof(RedisOptions.Password) => $"--redis-password (or ${PasswordVariable})",
        nameof(RedisOptions.Tls) => "--redis-tls",
        nameof(RedisOptions.TlsCaFile) => "--redis-ca",
        nameof(RedisOptions.TlsCertificateFile) => "--redis-cert",
        nameof(RedisOptions.TlsKeyFile) => "--redis-key",
        _ => property,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
