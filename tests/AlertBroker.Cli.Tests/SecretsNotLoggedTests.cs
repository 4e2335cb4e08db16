using System.Diagnostics;
using System.Text;
using AlertBroker.Registry;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Tests;
using Confluent.Kafka;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// Secrets never reach the logs: the worker and the <c>models</c> commands run as child processes with every secret the
/// configuration has (Kafka SASL password, TLS key password, Redis password, schema registry password, and a password in
/// the librdkafka pass-through), the most verbose logging (Trace, and librdkafka's own <c>debug</c> output with its
/// configuration dumps), and every line they write to stdout and stderr is searched for each secret.
/// </summary>
public sealed class SecretsNotLoggedTests : IClassFixture<SecureRedisServerFixture>, IDisposable
{
    private const string SaslPassword = "sasl-S3cret-4b7e1d";
    private const string KeyPassword = "key-S3cret-c90a2f";
    private const string SchemaPassword = "schema-S3cret-51aa07";
    private const string PassThroughPassword = "passthrough-S3cret-e3d2";
    private readonly SecureRedisServerFixture _redis;
    private readonly MockKafkaCluster _kafka = MockKafkaCluster.Start();
    private readonly TestCertificates _certificates = TestCertificates.Create(KeyPassword);
    private readonly string _root = Directory.CreateTempSubdirectory("ab-secrets-").FullName;

    public SecretsNotLoggedTests(SecureRedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    public void Dispose()
    {
        _kafka.Dispose();
        _certificates.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>A worker that runs: Redis (ACL user over TLS) for state and the registry, a schema registry with basic auth, classifications published.</summary>
    [Fact]
    public async Task Run_WorkingWorkerWithSecretsAndTraceLogging_WritesNoSecret()
    {
        await using var schemas = await FakeSchemaRegistry.StartAsync("sr-user", SchemaPassword);
        var id = Guid.NewGuid().ToString("N")[..8];
        string input = "in-" + id, output = "out-" + id;
        _kafka.CreateTopics(input, output, "dlq-" + id);
        var prefix = "sec" + id;
        using (var connection = await _redis.ConnectAsync())
        {
            var registry = new RedisModelRegistry(connection, prefix);
            var package = TestModelPackages.Export(Path.Combine(_root, "m"), "secret-gru", "1", seed: 3);
            await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(package, "model.json")), File.ReadAllBytes(Path.Combine(package, "model.onnx"))), "test");
            Assert.True((await new ModelPromoter(registry).PromoteAsync(new ModelRef("secret-gru", "1"), new PromotionOptions())).Promoted);
        }

        var environment = Verbose(RedisAndSchemaSecrets(schemas.Url));
        environment["AlertBroker__Model__RegistryPrefix"] = prefix;

        // A password in the pass-through (unused with plaintext, but librdkafka holds it and its configuration dump lists it).
        environment["AlertBroker__Kafka__Properties__sasl.password"] = PassThroughPassword;
        using var worker = AlertBrokerProcess.Start(
            [
                "run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", input, "--group", "g-" + id, "--output-topic", output,
                "--dead-letter-topic", "dlq-" + id, "--redis", _redis.Configuration, "--model-registry-redis", _redis.Configuration,
                "--batch-timeout-ms", "50", "--http-port", "0",
            ],
            environment);
        try
        {
            Assert.True(await worker.WaitForLineAsync("Partitions assigned", TimeSpan.FromSeconds(90)), worker.Output);
            var alerts = SyntheticZtfAlerts.Generate(5, 3, seed: 9);
            using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
            {
                foreach (var a in alerts)
                {
                    await producer.ProduceAsync(input, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(a.ObjectId), Value = a.Message });
                }
            }

            Assert.Equal(alerts.Count, ReadClassifications(output, alerts.Count));
            worker.Terminate();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            worker.Dispose();
        }

        var log = worker.Output;
        Assert.True(worker.ExitCode == 0, log);

        // The verbose paths did run: trace-level lines, librdkafka's own debug output and its configuration dump.
        Assert.Contains("dbug:", log, StringComparison.Ordinal);
        Assert.Contains("librdkafka rdkafka#consumer", log, StringComparison.Ordinal);
        Assert.Contains("sasl.password", log, StringComparison.Ordinal);
        Assert.Contains("Output schema registered", log, StringComparison.Ordinal);
        AssertNoSecret(log, _redis.Password!, SchemaPassword, PassThroughPassword);
    }

    /// <summary>SASL over TLS with an encrypted client key, against the mock's plaintext listener: refused at start, exit code 4.</summary>
    [Fact]
    public async Task Run_KafkaSaslAndTlsSecretsRefusedByTheBrokers_Exits4AndWritesNoSecret()
    {
        await using var schemas = await FakeSchemaRegistry.StartAsync("sr-user", SchemaPassword);
        var environment = Verbose(RedisAndSchemaSecrets(schemas.Url));
        environment["AlertBroker__Kafka__SecurityProtocol"] = "SaslSsl";
        environment["AlertBroker__Kafka__SaslMechanism"] = "ScramSha512";
        environment["AlertBroker__Kafka__SaslUsername"] = "alertbroker";
        environment["AlertBroker__Kafka__SaslPassword"] = SaslPassword;
        environment["AlertBroker__Kafka__SslCaLocation"] = _certificates.CaFile;
        environment["AlertBroker__Kafka__SslCertificateLocation"] = _certificates.CertificateFile;
        environment["AlertBroker__Kafka__SslKeyLocation"] = _certificates.EncryptedKeyFile;
        environment["AlertBroker__Kafka__SslKeyPassword"] = KeyPassword;

        var (exit, log, _) = await AlertBrokerProcess.RunAsync(["run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", "t", "--redis", _redis.Configuration, "--random-model", "--http-port", "0"], environment, TimeSpan.FromSeconds(120));

        Assert.True(exit == 4, $"exit code {exit}:\n{log}");
        Assert.Contains("SSL handshake failed", log, StringComparison.Ordinal);
        Assert.Contains("librdkafka rdkafka#", log, StringComparison.Ordinal);
        AssertNoSecret(log, SaslPassword, KeyPassword, _redis.Password!, SchemaPassword);

        // Without TLS (the non-secret settings now as run's options) the SASL credentials meet a broker that has no SASL:
        // an authentication failure, also exit code 4.
        foreach (var key in new[] { "SecurityProtocol", "SaslMechanism", "SaslUsername", "SslCaLocation", "SslCertificateLocation", "SslKeyLocation", "SslKeyPassword" })
        {
            environment.Remove("AlertBroker__Kafka__" + key);
        }

        var (saslExit, saslLog, _) = await AlertBrokerProcess.RunAsync(
            [
                "run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", "t", "--redis", _redis.Configuration, "--random-model", "--http-port", "0",
                "--kafka-security-protocol", "SaslPlaintext", "--kafka-sasl-mechanism", "ScramSha256", "--kafka-sasl-username", "alertbroker",
            ],
            environment,
            TimeSpan.FromSeconds(120));
        Assert.True(saslExit == 4, $"exit code {saslExit}:\n{saslLog}");
        Assert.Contains("SASL Handshake not supported by broker (required by mechanism SCRAM-SHA-256)", System.Text.RegularExpressions.Regex.Replace(saslLog, @"\s+", " "), StringComparison.Ordinal);
        AssertNoSecret(saslLog, SaslPassword, _redis.Password!, SchemaPassword);
    }

    /// <summary>The same secrets through the <c>models</c> commands, and a Kafka setting that is invalid (exit code 2).</summary>
    [Fact]
    public async Task ModelsCommandsAndInvalidConfiguration_WithSecrets_WriteNoSecret()
    {
        var environment = Verbose(RedisAndSchemaSecrets("http://127.0.0.1:1"));
        environment["AlertBroker__Model__RegistryRedis"] = _redis.Configuration;
        environment["AlertBroker__Model__RegistryPrefix"] = "sec" + Guid.NewGuid().ToString("N")[..8];
        var package = TestModelPackages.Export(Path.Combine(_root, "cmd"), "secret-gru", "1", seed: 4);
        var all = new StringBuilder();
        foreach (var args in new[] { new[] { "models", "push", package }, ["models", "promote", "secret-gru@1"], ["models", "status"], ["models", "list"] })
        {
            var (exit, log, _) = await AlertBrokerProcess.RunAsync(args, environment, TimeSpan.FromSeconds(120));
            Assert.True(exit == 0, string.Join(' ', args) + ":\n" + log);
            all.AppendLine(log);
        }

        // SASL settings with a plaintext protocol: refused at start, naming the key, not echoing the password.
        environment["AlertBroker__Kafka__SaslPassword"] = SaslPassword;
        environment["AlertBroker__Kafka__SslKeyPassword"] = KeyPassword;
        var (invalid, message, _) = await AlertBrokerProcess.RunAsync(["run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", "t", "--in-memory", "--random-model", "--http-port", "0"], environment, TimeSpan.FromSeconds(120));
        Assert.True(invalid == 2, message);
        Assert.Contains("AlertBroker:Kafka:SaslPassword is set but AlertBroker:Kafka:SecurityProtocol is not set", System.Text.RegularExpressions.Regex.Replace(message, @"\s+", " "), StringComparison.Ordinal);
        all.AppendLine(message);
        AssertNoSecret(all.ToString(), _redis.Password!, SchemaPassword, SaslPassword, KeyPassword);
    }

    private static Dictionary<string, string?> Verbose(Dictionary<string, string?> environment)
    {
        environment["Logging__LogLevel__Default"] = "Trace";
        environment["Logging__LogLevel__Microsoft"] = "Trace";
        environment["AlertBroker__Kafka__Properties__debug"] = "conf,generic,security,broker";
        return environment;
    }

    private Dictionary<string, string?> RedisAndSchemaSecrets(string schemaRegistryUrl) => new()
    {
        ["AlertBroker__Redis__User"] = _redis.User,
        ["AlertBroker__Redis__Password"] = _redis.Password,
        ["AlertBroker__Redis__Tls"] = "true",
        ["AlertBroker__Redis__TlsCaFile"] = _redis.CaFile,
        ["AlertBroker__Schemas__RegistryUrl"] = schemaRegistryUrl,
        ["AlertBroker__Schemas__RegistryUsername"] = "sr-user",
        ["AlertBroker__Schemas__RegistryPassword"] = SchemaPassword,
    };

    private static void AssertNoSecret(string log, params string[] secrets)
    {
        Assert.True(log.Length > 0);
        foreach (var secret in secrets)
        {
            var at = log.IndexOf(secret, StringComparison.Ordinal);
            Assert.True(at < 0, $"secret found in the output: …{log[Math.Max(0, at - 300)..Math.Min(log.Length, at + secret.Length + 100)]}…");
        }
    }

    private int ReadClassifications(string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        var ids = new HashSet<long>();
        var clock = Stopwatch.StartNew();
        while (ids.Count < expected && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
            {
                ids.Add(ClassificationCodec.Decode(r.Message.Value).SourceId);
            }
        }

        consumer.Close();
        return ids.Count;
    }
}
