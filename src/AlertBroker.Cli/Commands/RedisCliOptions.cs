using System.CommandLine;
using AlertBroker.Redis;
using AlertBroker.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>--redis-user</c>, <c>--redis-password</c> (default <c>$ALERTBROKER_REDIS_PASSWORD</c>), <c>--redis-tls</c>,
/// <c>--redis-ca</c>, <c>--redis-cert</c>, <c>--redis-key</c>: the <c>AlertBroker:Redis</c> settings on the command line of
/// every command that takes <c>--redis</c>, over the same settings from the environment (<c>AlertBroker__Redis__*</c>,
/// as for <c>run</c>), so a Job or shell that sets the worker's variables needs no options.
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

    /// <summary>
    /// The settings in force for a command other than <c>run</c>: the <c>AlertBroker:Redis</c> section from the environment
    /// (<c>AlertBroker__Redis__User</c>, <c>…__Password</c>, <c>…__Tls</c>, <c>…__TlsCaFile</c>, <c>…__TlsCertificateFile</c>,
    /// <c>…__TlsKeyFile</c>, exactly as the worker reads them), then <c>$ALERTBROKER_REDIS_PASSWORD</c>, then the options
    /// given on the command line, each winning over the ones before. Null (after printing every problem, each naming the
    /// option or variable it came from) when they are unusable.
    /// </summary>
    public RedisOptions? Read(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var fromEnvironment = new Dictionary<string, string?>(StringComparer.Ordinal);
        RedisOptions options;
        try
        {
            options = FromEnvironment(fromEnvironment);
        }
        catch (InvalidOperationException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]invalid Redis settings:[/] " + Markup.Escape(ConfigurationErrors.Describe(e)));
            return null;
        }

        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (property, _) in fromEnvironment)
        {
            origin[property] = EnvironmentName(property);
        }

        if (NullIfEmpty(Environment.GetEnvironmentVariable(PasswordVariable)) is { } variablePassword)
        {
            options.Password = variablePassword;
            origin[nameof(RedisOptions.Password)] = "$" + PasswordVariable;
        }

        void FromCommandLine<T>(Option<T> option, string property, Action<T> set)
        {
            if (parse.GetResult(option) is { Implicit: false })
            {
                set(parse.GetValue(option)!);
                origin[property] = CliName(property);
            }
        }

        FromCommandLine(User, nameof(RedisOptions.User), v => options.User = v);
        FromCommandLine(Password, nameof(RedisOptions.Password), v => options.Password = v);
        FromCommandLine(Ca, nameof(RedisOptions.TlsCaFile), v => options.TlsCaFile = v);
        FromCommandLine(Certificate, nameof(RedisOptions.TlsCertificateFile), v => options.TlsCertificateFile = v);
        FromCommandLine(Key, nameof(RedisOptions.TlsKeyFile), v => options.TlsKeyFile = v);
        if (parse.GetValue(Tls) || parse.GetValue(Ca) is not null || parse.GetValue(Certificate) is not null)
        {
            options.Tls = true;
            origin[nameof(RedisOptions.Tls)] = CliName(nameof(RedisOptions.Tls));
        }

        var problems = options.Validate(property => origin.GetValueOrDefault(property) ?? CliName(property));
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

    /// <summary>The <c>AlertBroker:Redis</c> section of the process's environment variables; <paramref name="given"/> receives the properties set there.</summary>
    /// <exception cref="InvalidOperationException">a value cannot be converted (e.g. <c>AlertBroker__Redis__Tls=yes</c>); the message names it.</exception>
    internal static RedisOptions FromEnvironment(IDictionary<string, string?> given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        if (ConfigurationKeyCheck.ShapeProblems(environment, "Redis") is { Count: > 0 } shapes)
        {
            // AlertBroker__Redis__User__x=… was the binder's "Cannot create instance of type 'System.String'" (no key named).
            throw new InvalidOperationException(string.Join(" ", shapes));
        }

        var section = environment.GetSection(RedisOptions.Section);
        foreach (var child in section.GetChildren())
        {
            given[child.Key] = child.Value;
        }

        return section.Get<RedisOptions>() ?? new RedisOptions();
    }

    /// <summary>
    /// For <c>run</c> and <c>serve</c>: the options given on the command line as configuration overrides (validated with the
    /// rest of the configuration), and <c>$ALERTBROKER_REDIS_PASSWORD</c> where <c>--redis-password</c> is not given, as its
    /// help says; so, as for the other commands (<see cref="Read"/>), the variable wins over <c>AlertBroker__Redis__Password</c>
    /// and a <c>--config</c> file, and the option over the variable. Until 2026-12-07 run and serve ignored the variable
    /// (a password-protected Redis answered NOAUTH: exit 4).
    /// </summary>
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
        Set(nameof(RedisOptions.Password), parse.GetValue(Password) ?? NullIfEmpty(Environment.GetEnvironmentVariable(PasswordVariable)));
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

    private static string EnvironmentName(string property) => "AlertBroker__Redis__" + property;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
