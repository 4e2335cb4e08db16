using AlertBroker.Worker.Hosting;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Kafka;

/// <summary>Why the brokers were not usable at start.</summary>
public enum KafkaConnectFailure
{
    /// <summary>SASL authentication failed (wrong user or password, a mechanism the brokers do not offer, or brokers without SASL).</summary>
    Authentication,

    /// <summary>The TLS handshake failed (untrusted or mismatched broker certificate, a client certificate refused, brokers without TLS) or the TLS material could not be used.</summary>
    Tls,

    /// <summary>The brokers refused the principal (authorization).</summary>
    Authorization,
}

/// <summary>
/// The Kafka brokers refused this worker's credentials or TLS at start. The message names the brokers, the protocol, the
/// mechanism and the user, never a password; <c>alertbroker run</c> exits with code 4.
/// </summary>
public sealed class KafkaConnectionFailedException : Exception
{
    public KafkaConnectionFailedException()
    {
    }

    public KafkaConnectionFailedException(string message)
        : base(message)
    {
    }

    public KafkaConnectionFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KafkaConnectionFailedException(KafkaConnectFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public KafkaConnectFailure Failure { get; }
}

/// <summary>
/// Asks the brokers for metadata with the worker's own security settings before the consumer joins its group, so that
/// refused credentials or a failed TLS handshake stop the worker at once with a clear message (exit code 4) instead of
/// a consumer that retries for ever. Brokers that do not answer at all are not this check's business: it gives up after
/// <c>timeout</c> and the consumer keeps retrying as before.
/// </summary>
public static class KafkaConnectionCheck
{
    /// <summary>Runs the check.</summary>
    /// <returns>true when a broker answered; false when none did within <paramref name="timeout"/> (not a security failure).</returns>
    /// <exception cref="KafkaConnectionFailedException">the brokers refused the credentials or the TLS handshake, or the TLS material could not be loaded.</exception>
    /// <exception cref="OptionsValidationException">librdkafka refuses another setting (e.g. an unknown Properties key).</exception>
    public static bool Verify(KafkaOptions options, TimeSpan timeout, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        Error? refusal = null;
        using var refused = new ManualResetEventSlim();
        using var down = new ManualResetEventSlim();
        IAdminClient admin;
        try
        {
            admin = new AdminClientBuilder(KafkaAlertWorker.CreateAdminConfig(options))
                .SetErrorHandler((_, e) =>
                {
                    if (Classify(e) is not null)
                    {
                        refusal ??= e;
                        refused.Set();
                    }
                    else if (e.Code == ErrorCode.Local_AllBrokersDown)
                    {
                        down.Set();
                    }
                })
                .SetLogHandler((_, m) => KafkaAlertWorker.ForwardLog(logger, options, m))
                .Build();
        }
        catch (Exception e) when ((e is KafkaException or ArgumentException or InvalidOperationException) && e.Message.Contains("ssl", StringComparison.OrdinalIgnoreCase))
        {
            // librdkafka cannot use the TLS material: a key it cannot decrypt with SslKeyPassword, a CA or certificate it cannot parse.
            throw new KafkaConnectionFailedException(KafkaConnectFailure.Tls, $"Kafka client configuration refused by librdkafka ({Describe(options)}): {KafkaSecurity.Redact(e.Message, options)}", e);
        }
        catch (Exception e) when (e is KafkaException or ArgumentException or InvalidOperationException)
        {
            // Any other setting librdkafka does not accept (an unknown or malformed Properties entry) is a configuration error.
            throw new OptionsValidationException(
                KafkaOptions.Section,
                typeof(KafkaOptions),
                [$"{KafkaOptions.Section}: librdkafka does not accept the client configuration: {KafkaSecurity.Redact(e.Message, options)}"]);
        }

        using (admin)
        {
            // Short metadata requests, so the client is never disposed under a call in flight, until a broker answers, one
            // refuses us, all are down, or the time is up.
            var answered = false;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (refusal is null && clock.Elapsed < timeout)
            {
                try
                {
                    var left = timeout - clock.Elapsed;
                    if (admin.GetMetadata(TimeSpan.FromMilliseconds(Math.Clamp(left.TotalMilliseconds, 100, 500))).Brokers.Count > 0)
                    {
                        answered = true;
                        break;
                    }
                }
                catch (KafkaException)
                {
                }

                // A refusal comes with "all brokers down" (librdkafka names a failed TLS handshake as such only after a few
                // attempts, within about a second); down for three seconds without one is an outage, not a refusal.
                if (down.IsSet && refused.Wait(TimeSpan.FromMilliseconds(200)) is false && clock.Elapsed > TimeSpan.FromSeconds(3))
                {
                    break;
                }
            }

            if (refusal is { } error)
            {
                var failure = Classify(error)!.Value;
                throw new KafkaConnectionFailedException(
                    failure,
                    $"Kafka at {options.BootstrapServers} refused the connection ({Describe(options)}): {KafkaSecurity.Redact(error.Reason, options)}. {Advice(failure)}");
            }

            if (!answered)
            {
                Log.KafkaNotAnswering(logger, options.BootstrapServers, Math.Round(clock.Elapsed.TotalSeconds, 1));
            }

            return answered;
        }
    }

    /// <summary>
    /// The kind of security failure a client error means, or null when it is not one. A TLS client talking to a plaintext
    /// listener sees only transport errors; librdkafka says "SSL handshake failed" in them once it has seen a few.
    /// </summary>
    public static KafkaConnectFailure? Classify(Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Classify(error.Code)
            ?? (error.Code == ErrorCode.Local_Transport && error.Reason.Contains("SSL handshake failed", StringComparison.OrdinalIgnoreCase) ? KafkaConnectFailure.Tls : null);
    }

    /// <summary>The kind of security failure an error code means, or null when it is not one.</summary>
    public static KafkaConnectFailure? Classify(ErrorCode code) => code switch
    {
        ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed or ErrorCode.UnsupportedSaslMechanism or ErrorCode.IllegalSaslState => KafkaConnectFailure.Authentication,
        ErrorCode.Local_Ssl => KafkaConnectFailure.Tls,
        ErrorCode.ClusterAuthorizationFailed or ErrorCode.TopicAuthorizationFailed or ErrorCode.GroupAuthorizationFailed => KafkaConnectFailure.Authorization,
        _ => null,
    };

    /// <summary>Protocol, mechanism, user and TLS files as configured (no password).</summary>
    public static string Describe(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parts = new List<string> { "security protocol " + (options.SecurityProtocol?.ToString() ?? "Plaintext (not set)") };
        if (KafkaSecurity.UsesSasl(options.SecurityProtocol))
        {
            parts.Add($"SASL {options.SaslMechanism} as user '{options.SaslUsername}'");
        }

        if (!string.IsNullOrEmpty(options.SslCaLocation))
        {
            parts.Add("CA " + options.SslCaLocation);
        }

        if (!string.IsNullOrEmpty(options.SslCertificateLocation))
        {
            parts.Add("client certificate " + options.SslCertificateLocation);
        }

        return string.Join(", ", parts);
    }

    private static string Advice(KafkaConnectFailure failure) => failure switch
    {
        KafkaConnectFailure.Authentication => "Check AlertBroker:Kafka:SaslMechanism, SaslUsername and SaslPassword, and that these brokers' listener uses SASL (SecurityProtocol).",
        KafkaConnectFailure.Tls => "Check AlertBroker:Kafka:SecurityProtocol (do these brokers speak TLS?), SslCaLocation (the CA that issued their certificates) and any client certificate and key.",
        _ => "Check the ACLs of this user on the cluster, the input topics and the consumer group.",
    };
}
