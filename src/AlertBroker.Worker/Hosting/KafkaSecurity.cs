using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Hosting;

/// <summary><c>AlertBroker:Kafka:SecurityProtocol</c>: librdkafka's <c>security.protocol</c>.</summary>
public enum KafkaSecurityProtocol
{
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

/// <summary>
/// <c>AlertBroker:Kafka:SaslMechanism</c>: librdkafka's <c>sasl.mechanism</c>. GSSAPI (Kerberos) is not offered: the packaged
/// librdkafka is built without it; OAUTHBEARER would need a token provider the worker does not have.
/// </summary>
public enum KafkaSaslMechanism
{
    Plain,
    ScramSha256,
    ScramSha512,
}

/// <summary>
/// The typed Kafka security settings (<c>AlertBroker:Kafka:SecurityProtocol</c>, <c>SaslMechanism</c>, <c>SaslUsername</c>,
/// <c>SaslPassword</c>, <c>SslCaLocation</c>, <c>SslCertificateLocation</c>, <c>SslKeyLocation</c>, <c>SslKeyPassword</c>):
/// how they map onto librdkafka's configuration of every client the worker makes (consumer, producer, admin), how they
/// are checked at start, and how secrets are kept out of librdkafka's log lines.
/// </summary>
public static partial class KafkaSecurity
{
    private const string Section = KafkaOptions.Section + ":";

    // Typed key → the librdkafka names it sets (the first is the one written), and names it cannot coexist with.
    private static readonly (string Key, string[] Names, string[] Excludes)[] s_keys =
    [
        (nameof(KafkaOptions.SecurityProtocol), ["security.protocol"], []),
        (nameof(KafkaOptions.SaslMechanism), ["sasl.mechanism", "sasl.mechanisms"], []),
        (nameof(KafkaOptions.SaslUsername), ["sasl.username"], []),
        (nameof(KafkaOptions.SaslPassword), ["sasl.password"], []),
        (nameof(KafkaOptions.SslCaLocation), ["ssl.ca.location"], ["ssl.ca.pem"]),
        (nameof(KafkaOptions.SslCertificateLocation), ["ssl.certificate.location"], ["ssl.certificate.pem"]),
        (nameof(KafkaOptions.SslKeyLocation), ["ssl.key.location"], ["ssl.key.pem"]),
        (nameof(KafkaOptions.SslKeyPassword), ["ssl.key.password"], []),
    ];

    // librdkafka settings whose values are secrets, wherever they come from.
    private static readonly string[] s_secretNames = ["sasl.password", "ssl.key.password", "ssl.key.pem", "ssl.keystore.password", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config"];

    /// <summary>librdkafka's value for a protocol (<c>sasl_ssl</c>, …).</summary>
    public static string LibrdkafkaName(KafkaSecurityProtocol protocol) => protocol switch
    {
        KafkaSecurityProtocol.Plaintext => "plaintext",
        KafkaSecurityProtocol.Ssl => "ssl",
        KafkaSecurityProtocol.SaslPlaintext => "sasl_plaintext",
        KafkaSecurityProtocol.SaslSsl => "sasl_ssl",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
    };

    /// <summary>librdkafka's value for a mechanism (<c>SCRAM-SHA-512</c>, …).</summary>
    public static string LibrdkafkaName(KafkaSaslMechanism mechanism) => mechanism switch
    {
        KafkaSaslMechanism.Plain => "PLAIN",
        KafkaSaslMechanism.ScramSha256 => "SCRAM-SHA-256",
        KafkaSaslMechanism.ScramSha512 => "SCRAM-SHA-512",
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism)),
    };

    /// <summary>Whether the protocol authenticates with SASL.</summary>
    public static bool UsesSasl(KafkaSecurityProtocol? protocol) => protocol is KafkaSecurityProtocol.SaslPlaintext or KafkaSecurityProtocol.SaslSsl;

    /// <summary>Whether the protocol encrypts with TLS.</summary>
    public static bool UsesTls(KafkaSecurityProtocol? protocol) => protocol is KafkaSecurityProtocol.Ssl or KafkaSecurityProtocol.SaslSsl;

    /// <summary>Writes the typed settings that are set into a librdkafka client configuration (after the pass-through Properties, which they agree with).</summary>
    public static void Apply(ClientConfig config, KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (key, names, _) in s_keys)
        {
            if (Value(options, key) is { } value)
            {
                config.Set(names[0], value);
            }
        }
    }

    /// <summary>Every problem with the security settings, each naming its key; empty when they can be used.</summary>
    public static IReadOnlyList<string> Validate(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var protocol = options.SecurityProtocol;
        var described = protocol is null ? "not set (plaintext)" : protocol.ToString();
        if (UsesSasl(protocol))
        {
            Require(problems, options.SaslMechanism is null, nameof(KafkaOptions.SaslMechanism), $"is required with SecurityProtocol {protocol}: Plain, ScramSha256 or ScramSha512");
            Require(problems, string.IsNullOrEmpty(options.SaslUsername), nameof(KafkaOptions.SaslUsername), $"is required with SecurityProtocol {protocol}");
            Require(problems, string.IsNullOrEmpty(options.SaslPassword), nameof(KafkaOptions.SaslPassword), $"is required with SecurityProtocol {protocol} (e.g. AlertBroker__Kafka__SaslPassword from a Secret)");
        }
        else
        {
            foreach (var key in new[] { nameof(KafkaOptions.SaslMechanism), nameof(KafkaOptions.SaslUsername), nameof(KafkaOptions.SaslPassword) })
            {
                Require(problems, Value(options, key) is not null, key, $"is set but {Section}SecurityProtocol is {described}: SASL needs SaslPlaintext or SaslSsl");
            }
        }

        if (!UsesTls(protocol))
        {
            foreach (var key in new[] { nameof(KafkaOptions.SslCaLocation), nameof(KafkaOptions.SslCertificateLocation), nameof(KafkaOptions.SslKeyLocation), nameof(KafkaOptions.SslKeyPassword) })
            {
                Require(problems, Value(options, key) is not null, key, $"is set but {Section}SecurityProtocol is {described}: TLS needs Ssl or SaslSsl");
            }
        }

        if (string.IsNullOrEmpty(options.SslCertificateLocation) != string.IsNullOrEmpty(options.SslKeyLocation))
        {
            problems.Add($"{Section}SslCertificateLocation and {Section}SslKeyLocation go together (a client certificate and its private key), or neither.");
        }

        Require(problems, !string.IsNullOrEmpty(options.SslKeyPassword) && string.IsNullOrEmpty(options.SslKeyLocation), nameof(KafkaOptions.SslKeyPassword), $"is set without {Section}SslKeyLocation");
        CheckFile(problems, nameof(KafkaOptions.SslCaLocation), options.SslCaLocation, directoryAllowed: true);
        CheckFile(problems, nameof(KafkaOptions.SslCertificateLocation), options.SslCertificateLocation, directoryAllowed: false);
        CheckFile(problems, nameof(KafkaOptions.SslKeyLocation), options.SslKeyLocation, directoryAllowed: false);

        // The pass-through must not say something else than a typed key (its value is never printed: it may be a secret).
        foreach (var (key, names, excludes) in s_keys)
        {
            if (Value(options, key) is not { } typed)
            {
                continue;
            }

            foreach (var (name, value) in options.Properties)
            {
                var same = Array.Exists(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
                if (same && !string.Equals(value, typed, key is nameof(KafkaOptions.SecurityProtocol) or nameof(KafkaOptions.SaslMechanism) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
                {
                    problems.Add($"{Section}Properties:{name} contradicts {Section}{key}: set it in one place only ({Section}{key}).");
                }
                else if (Array.Exists(excludes, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)))
                {
                    problems.Add($"{Section}Properties:{name} and {Section}{key} both give the same material: set one of them.");
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// A librdkafka log line or error fit to log: every secret of <paramref name="options"/> (typed or in Properties) replaced
    /// by <c>*****</c>, and the value after any <c>sasl.password</c>/<c>ssl.key.password</c>-like <c>name = value</c> too.
    /// (librdkafka marks those settings sensitive and prints <c>[redacted]</c> in its own configuration dumps; this is the
    /// second line of defence, for anything it prints that it did not think of.)
    /// </summary>
    public static string Redact(string? text, KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        foreach (var secret in Secrets(options))
        {
            text = text.Replace(secret, "*****", StringComparison.Ordinal);
        }

        return SecretSetting().Replace(text, "$1*****");
    }

    /// <summary>The secret values in the options, longest first (so a secret containing another is replaced whole).</summary>
    public static IReadOnlyList<string> Secrets(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var secrets = new List<string>();
        void Add(string? s)
        {
            if (!string.IsNullOrEmpty(s) && !secrets.Contains(s))
            {
                secrets.Add(s);
            }
        }

        Add(options.SaslPassword);
        Add(options.SslKeyPassword);
        foreach (var (name, value) in options.Properties)
        {
            if (IsSecretName(name))
            {
                Add(value);
            }
        }

        secrets.Sort(static (a, b) => b.Length.CompareTo(a.Length));
        return secrets;
    }

    /// <summary>A librdkafka property that holds a secret: a known one, or a name that says so (password, secret, key, JAAS).</summary>
    private static bool IsSecretName(string name) =>
        Array.Exists(s_secretNames, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
        || name.Contains("password", StringComparison.OrdinalIgnoreCase)
        || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".key", StringComparison.OrdinalIgnoreCase)
        || name.Contains("jaas", StringComparison.OrdinalIgnoreCase);

    private static string? Value(KafkaOptions o, string key) => key switch
    {
        nameof(KafkaOptions.SecurityProtocol) => o.SecurityProtocol is { } p ? LibrdkafkaName(p) : null,
        nameof(KafkaOptions.SaslMechanism) => o.SaslMechanism is { } m ? LibrdkafkaName(m) : null,
        nameof(KafkaOptions.SaslUsername) => NullIfEmpty(o.SaslUsername),
        nameof(KafkaOptions.SaslPassword) => NullIfEmpty(o.SaslPassword),
        nameof(KafkaOptions.SslCaLocation) => NullIfEmpty(o.SslCaLocation),
        nameof(KafkaOptions.SslCertificateLocation) => NullIfEmpty(o.SslCertificateLocation),
        nameof(KafkaOptions.SslKeyLocation) => NullIfEmpty(o.SslKeyLocation),
        nameof(KafkaOptions.SslKeyPassword) => NullIfEmpty(o.SslKeyPassword),
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    private static void Require(List<string> problems, bool failed, string key, string message)
    {
        if (failed)
        {
            problems.Add($"{Section}{key} {message}.");
        }
    }

    private static void CheckFile(List<string> problems, string key, string? path, bool directoryAllowed)
    {
        if (string.IsNullOrEmpty(path) || File.Exists(path) || (directoryAllowed && (Directory.Exists(path) || path == "probe")))
        {
            return;
        }

        problems.Add($"{Section}{key}: file '{path}' not found.");
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    [GeneratedRegex(@"((?:sasl\.password|ssl\.key\.password|ssl\.keystore\.password|sasl\.oauthbearer\.client\.secret|SaslPassword|SslKeyPassword)\s*[=:]\s*)(?!\[redacted\])[^\s,;]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretSetting();
}

/// <summary><see cref="KafkaSecurity.Validate"/> as a start-time check of <c>AlertBroker:Kafka</c> (beside <see cref="KafkaOptionsValidator"/>).</summary>
internal sealed class KafkaSecurityValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var problems = KafkaSecurity.Validate(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
