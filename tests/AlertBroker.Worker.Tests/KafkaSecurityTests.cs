using System.Diagnostics;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// The typed Kafka security settings: their mapping onto the effective librdkafka configuration of every client, their
/// start-time checks, and what librdkafka's mock cluster (which has neither SASL nor TLS listeners) lets us test end to end:
/// a SASL or TLS client against its plaintext listener is refused with a typed error that names no secret.
/// </summary>
public sealed class KafkaSecurityTests : IClassFixture<MockKafkaFixture>, IDisposable
{
    private const string Password = "sasl-S3cret-9f1c";
    private readonly MockKafkaFixture _kafka;
    private readonly TestCertificates _certificates = TestCertificates.Create("key-S3cret-77ab");

    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public KafkaSecurityTests(MockKafkaFixture kafka, Xunit.Abstractions.ITestOutputHelper output)
    {
        _kafka = kafka;
        _output = output;
    }

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void CreateConfigs_SaslSslWithMutualTls_EveryClientGetsEveryTypedSetting()
    {
        var options = SaslSsl();
        options.Properties["session.timeout.ms"] = "6000";
        var expected = new Dictionary<string, string>
        {
            ["security.protocol"] = "sasl_ssl",
            ["sasl.mechanism"] = "SCRAM-SHA-512",
            ["sasl.username"] = "alertbroker",
            ["sasl.password"] = Password,
            ["ssl.ca.location"] = _certificates.CaFile,
            ["ssl.certificate.location"] = _certificates.CertificateFile,
            ["ssl.key.location"] = _certificates.EncryptedKeyFile,
            ["ssl.key.password"] = _certificates.KeyPassword,
        };

        foreach (ClientConfig config in new ClientConfig[] { KafkaAlertWorker.CreateConsumerConfig(options), KafkaAlertWorker.CreateProducerConfig(options), KafkaAlertWorker.CreateAdminConfig(options) })
        {
            var effective = config.ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (var (key, value) in expected)
            {
                Assert.Equal(value, effective.GetValueOrDefault(key));
            }

            Assert.Equal(options.BootstrapServers, effective["bootstrap.servers"]);
        }

        Assert.Equal("6000", KafkaAlertWorker.CreateConsumerConfig(options).Get("session.timeout.ms"));
        Assert.Null(KafkaAlertWorker.CreateAdminConfig(options).Get("session.timeout.ms"));
        Assert.Empty(KafkaSecurity.Validate(options));
    }

    [Theory]
    [InlineData(KafkaSecurityProtocol.Plaintext, "plaintext")]
    [InlineData(KafkaSecurityProtocol.Ssl, "ssl")]
    [InlineData(KafkaSecurityProtocol.SaslPlaintext, "sasl_plaintext")]
    [InlineData(KafkaSecurityProtocol.SaslSsl, "sasl_ssl")]
    public void Apply_EachProtocol_IsLibrdkafkasName(KafkaSecurityProtocol protocol, string expected)
    {
        var config = new ClientConfig();
        KafkaSecurity.Apply(config, new KafkaOptions { SecurityProtocol = protocol });
        Assert.Equal(expected, config.Get("security.protocol"));
    }

    [Theory]
    [InlineData(KafkaSaslMechanism.Plain, "PLAIN")]
    [InlineData(KafkaSaslMechanism.ScramSha256, "SCRAM-SHA-256")]
    [InlineData(KafkaSaslMechanism.ScramSha512, "SCRAM-SHA-512")]
    public void Apply_EachMechanism_IsLibrdkafkasName(KafkaSaslMechanism mechanism, string expected)
    {
        var config = new ClientConfig();
        KafkaSecurity.Apply(config, new KafkaOptions { SecurityProtocol = KafkaSecurityProtocol.SaslPlaintext, SaslMechanism = mechanism });
        Assert.Equal(expected, config.Get("sasl.mechanism"));
    }

    [Fact]
    public void CreateConfigs_NothingSet_LeavesLibrdkafkasDefaultsAndThePassThrough()
    {
        var options = new KafkaOptions { BootstrapServers = "b:9092", Properties = { ["security.protocol"] = "ssl" } };
        var consumer = KafkaAlertWorker.CreateConsumerConfig(options);
        Assert.Equal("ssl", consumer.Get("security.protocol"));
        Assert.Null(consumer.Get("sasl.mechanism"));
        Assert.Null(KafkaAlertWorker.CreateProducerConfig(new KafkaOptions { BootstrapServers = "b:9092" }).Get("security.protocol"));
        Assert.Empty(KafkaSecurity.Validate(options));
    }

    [Fact]
    public void Bind_EnvironmentStyleKeys_FillTheTypedOptions()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:SecurityProtocol"] = "SaslSsl",
            ["AlertBroker:Kafka:SaslMechanism"] = "ScramSha256",
            ["AlertBroker:Kafka:SaslUsername"] = "u",
            ["AlertBroker:Kafka:SaslPassword"] = Password,
        }).Build();
        var options = configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>()!;
        Assert.Equal(KafkaSecurityProtocol.SaslSsl, options.SecurityProtocol);
        Assert.Equal(KafkaSaslMechanism.ScramSha256, options.SaslMechanism);
        Assert.Equal(Password, options.SaslPassword);

        var wrong = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AlertBroker:Kafka:SecurityProtocol"] = "SASL_SSL" }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => wrong.GetSection(KafkaOptions.Section).Get<KafkaOptions>());
        Assert.Contains("AlertBroker:Kafka:SecurityProtocol", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> InvalidSettings => new()
    {
        { "SecurityProtocol=SaslSsl;SaslUsername=u;SaslPassword=p", "AlertBroker:Kafka:SaslMechanism is required with SecurityProtocol SaslSsl" },
        { "SecurityProtocol=SaslPlaintext;SaslMechanism=Plain;SaslPassword=p", "AlertBroker:Kafka:SaslUsername is required" },
        { "SecurityProtocol=SaslPlaintext;SaslMechanism=Plain;SaslUsername=u", "AlertBroker:Kafka:SaslPassword is required" },
        { "SaslUsername=u", "AlertBroker:Kafka:SaslUsername is set but AlertBroker:Kafka:SecurityProtocol is not set" },
        { "SecurityProtocol=Ssl;SaslPassword=p", "AlertBroker:Kafka:SaslPassword is set but AlertBroker:Kafka:SecurityProtocol is Ssl" },
        { "SecurityProtocol=SaslPlaintext;SaslMechanism=Plain;SaslUsername=u;SaslPassword=p;SslCaLocation=CA", "AlertBroker:Kafka:SslCaLocation is set but AlertBroker:Kafka:SecurityProtocol is SaslPlaintext" },
        { "SecurityProtocol=Ssl;SslCaLocation=/nonexistent/ca.pem", "AlertBroker:Kafka:SslCaLocation: file '/nonexistent/ca.pem' not found" },
        { "SecurityProtocol=Ssl;SslCertificateLocation=CERT", "AlertBroker:Kafka:SslCertificateLocation and AlertBroker:Kafka:SslKeyLocation go together" },
        { "SecurityProtocol=Ssl;SslCertificateLocation=CERT;SslKeyLocation=/nonexistent/k.pem", "AlertBroker:Kafka:SslKeyLocation: file '/nonexistent/k.pem' not found" },
        { "SecurityProtocol=Ssl;SslKeyPassword=p", "AlertBroker:Kafka:SslKeyPassword is set without AlertBroker:Kafka:SslKeyLocation" },
        { "SecurityProtocol=SaslSsl;SaslMechanism=Plain;SaslUsername=u;SaslPassword=p;Properties:security.protocol=SASL_PLAINTEXT", "AlertBroker:Kafka:Properties:security.protocol contradicts AlertBroker:Kafka:SecurityProtocol" },
        { "SecurityProtocol=SaslSsl;SaslMechanism=Plain;SaslUsername=u;SaslPassword=p;Properties:sasl.mechanisms=SCRAM-SHA-256", "AlertBroker:Kafka:Properties:sasl.mechanisms contradicts AlertBroker:Kafka:SaslMechanism" },
        { "SecurityProtocol=SaslSsl;SaslMechanism=Plain;SaslUsername=u;SaslPassword=p;Properties:sasl.password=other", "AlertBroker:Kafka:Properties:sasl.password contradicts AlertBroker:Kafka:SaslPassword" },
        { "SecurityProtocol=Ssl;SslCertificateLocation=CERT;SslKeyLocation=KEY;Properties:ssl.key.pem=-----BEGIN", "AlertBroker:Kafka:Properties:ssl.key.pem and AlertBroker:Kafka:SslKeyLocation both give the same material" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Validate_InvalidSettings_NameTheKeyAndNoSecret(string settings, string expected)
    {
        var problems = KafkaSecurity.Validate(Parse(settings));

        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain("other", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_PassThroughAgreeingWithTheTypedKey_IsAccepted()
    {
        var options = Parse("SecurityProtocol=SaslSsl;SaslMechanism=ScramSha512;SaslUsername=u;SaslPassword=p;Properties:security.protocol=SASL_SSL;Properties:sasl.mechanism=SCRAM-SHA-512;Properties:sasl.username=u");
        Assert.Empty(KafkaSecurity.Validate(options));
    }

    [Fact]
    public void Redact_SecretsFromTypedKeysAndProperties_AreMasked()
    {
        var options = SaslSsl();
        options.Properties["sasl.oauthbearer.client.secret"] = "oauth-S3cret";
        var text = $"conf: sasl.password = {Password}, ssl.key.password={_certificates.KeyPassword}; echo {Password} oauth-S3cret; sasl.password=whatever";

        var redacted = KafkaSecurity.Redact(text, options);

        Assert.DoesNotContain(Password, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain(_certificates.KeyPassword, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("oauth-S3cret", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("whatever", redacted, StringComparison.Ordinal);
        Assert.Contains("sasl.password = *****", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PlaintextAgainstTheMock_Answers()
    {
        Assert.True(KafkaConnectionCheck.Verify(new KafkaOptions { BootstrapServers = _kafka.Cluster.BootstrapServers, SecurityProtocol = KafkaSecurityProtocol.Plaintext }, TimeSpan.FromSeconds(10)));
    }

    /// <summary>librdkafka 2.16's mock brokers implement neither SaslHandshake nor SaslAuthenticate: a SASL client is refused.</summary>
    [Theory]
    [InlineData(KafkaSecurityProtocol.SaslPlaintext, KafkaSaslMechanism.Plain)]
    [InlineData(KafkaSecurityProtocol.SaslPlaintext, KafkaSaslMechanism.ScramSha256)]
    [InlineData(KafkaSecurityProtocol.SaslPlaintext, KafkaSaslMechanism.ScramSha512)]
    public void Verify_SaslAgainstThePlaintextMock_IsAnAuthenticationFailureNamingNoSecret(KafkaSecurityProtocol protocol, KafkaSaslMechanism mechanism)
    {
        var options = new KafkaOptions
        {
            BootstrapServers = _kafka.Cluster.BootstrapServers,
            SecurityProtocol = protocol,
            SaslMechanism = mechanism,
            SaslUsername = "alertbroker",
            SaslPassword = Password,
        };
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<KafkaConnectionFailedException>(() => KafkaConnectionCheck.Verify(options, TimeSpan.FromSeconds(20)));

        _output.WriteLine(e.Message);
        Assert.Equal(KafkaConnectFailure.Authentication, e.Failure);
        Assert.Contains(_kafka.Cluster.BootstrapServers, e.Message, StringComparison.Ordinal);
        Assert.Contains("as user 'alertbroker'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, e.ToString(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the refusal took " + clock.Elapsed);
    }

    /// <summary>The mock has no TLS listener: the handshake fails, with the CA, client certificate and encrypted key loaded.</summary>
    [Fact]
    public void Verify_SslWithEncryptedClientKeyAgainstThePlaintextMock_IsATlsFailureNamingNoSecret()
    {
        var options = new KafkaOptions
        {
            BootstrapServers = _kafka.Cluster.BootstrapServers,
            SecurityProtocol = KafkaSecurityProtocol.Ssl,
            SslCaLocation = _certificates.CaFile,
            SslCertificateLocation = _certificates.CertificateFile,
            SslKeyLocation = _certificates.EncryptedKeyFile,
            SslKeyPassword = _certificates.KeyPassword,
        };
        Assert.Empty(KafkaSecurity.Validate(options));

        var e = Assert.Throws<KafkaConnectionFailedException>(() => KafkaConnectionCheck.Verify(options, TimeSpan.FromSeconds(20)));

        _output.WriteLine(e.Message);
        Assert.Equal(KafkaConnectFailure.Tls, e.Failure);
        Assert.DoesNotContain(_certificates.KeyPassword, e.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A key password that does not open the key: librdkafka refuses the configuration when the client is created.</summary>
    [Fact]
    public void Verify_WrongKeyPassword_IsATlsFailureAtClientCreation()
    {
        var options = new KafkaOptions
        {
            BootstrapServers = _kafka.Cluster.BootstrapServers,
            SecurityProtocol = KafkaSecurityProtocol.Ssl,
            SslCaLocation = _certificates.CaFile,
            SslCertificateLocation = _certificates.CertificateFile,
            SslKeyLocation = _certificates.EncryptedKeyFile,
            SslKeyPassword = "not-the-key-password",
        };

        var e = Assert.Throws<KafkaConnectionFailedException>(() => KafkaConnectionCheck.Verify(options, TimeSpan.FromSeconds(20)));

        _output.WriteLine(e.Message);
        Assert.Equal(KafkaConnectFailure.Tls, e.Failure);
        Assert.Contains("refused by librdkafka", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-key-password", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PropertyLibrdkafkaDoesNotKnow_IsAConfigurationError()
    {
        var options = new KafkaOptions { BootstrapServers = _kafka.Cluster.BootstrapServers, Properties = { ["no.such.setting"] = "1" } };
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => KafkaConnectionCheck.Verify(options, TimeSpan.FromSeconds(5)));
        Assert.Contains("no.such.setting", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_NoBrokerListening_ReturnsFalseWithoutWaitingTheFullTimeout()
    {
        var clock = Stopwatch.StartNew();
        Assert.False(KafkaConnectionCheck.Verify(new KafkaOptions { BootstrapServers = "127.0.0.1:1" }, TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "took " + clock.Elapsed);
    }

    private KafkaOptions SaslSsl() => new()
    {
        BootstrapServers = "broker-1:9093,broker-2:9093",
        SecurityProtocol = KafkaSecurityProtocol.SaslSsl,
        SaslMechanism = KafkaSaslMechanism.ScramSha512,
        SaslUsername = "alertbroker",
        SaslPassword = Password,
        SslCaLocation = _certificates.CaFile,
        SslCertificateLocation = _certificates.CertificateFile,
        SslKeyLocation = _certificates.EncryptedKeyFile,
        SslKeyPassword = _certificates.KeyPassword,
    };

    /// <summary><c>Key=Value;…</c> (CA, CERT and KEY stand for the test's files) bound as configuration.</summary>
    private KafkaOptions Parse(string settings)
    {
        var data = new Dictionary<string, string?>();
        foreach (var pair in settings.Split(';'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var value = pair[(eq + 1)..] switch
            {
                "CA" => _certificates.CaFile,
                "CERT" => _certificates.CertificateFile,
                "KEY" => _certificates.EncryptedKeyFile,
                var v => v,
            };
            data[KafkaOptions.Section + ":" + pair[..eq]] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(data).Build().GetSection(KafkaOptions.Section).Get<KafkaOptions>()!;
    }
}
