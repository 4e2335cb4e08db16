using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Scoring;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Tests;

/// <summary>Settings refused at start (exit 2, naming the key) that used to loop, overflow or fail later.</summary>
public sealed class StartChecksTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-start-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Dictionary<string, string?> Settings(params string[] models)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["AlertBroker:Kafka:Topics:0"] = "in",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Telemetry:HttpPort"] = "0",
        };
        for (var i = 0; i < models.Length; i++)
        {
            settings[$"AlertBroker:Model:Paths:{i}"] = models[i];
        }

        return settings;
    }

    // Two --model for one survey was "model unusable", exit 3; docs/worker.md calls it a usage error (2).
    [OnnxFact]
    public void Host_TwoModelsDeclaringOneSurvey_IsAConfigurationError()
    {
        var a = TestModelPackages.Export(Path.Combine(_root, "a"), "a-gru", "1", 1, surveys: ["ztf"]);
        var b = TestModelPackages.Export(Path.Combine(_root, "b"), "b-gru", "1", 2, surveys: ["ztf"]);
        using var host = WorkerHosts.Build(Settings(a, b));

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IBatchModelSource>());

        Assert.Contains("AlertBroker:Model:Path/Paths (--model): both a-gru 1 and b-gru 1 declare the survey ztf; give one model per survey", e.Failures, StringComparer.Ordinal);
    }

    // A configured CSV without the column said "(set …:Csv or :RedisHash)" — but Csv was set; and it was "model unusable"
    // (exit 3) though the settings are what is wrong (exit 2).
    [OnnxFact]
    public void Host_MetadataCsvWithoutTheColumn_IsAConfigurationErrorNamingTheColumnKey()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "meta"), "z-meta", "1", 3, metadata: true, surveys: ["ztf"]);
        var csv = Path.Combine(_root, "host.csv");
        File.WriteAllLines(csv, ["object_id,redshift,mw-ebv", "ZTF1,0.1,0.02"]);
        var settings = Settings(dir);
        settings["AlertBroker:Metadata:Sources:ztf:host-redshift:Csv"] = csv;
        settings["AlertBroker:Metadata:Sources:ztf:mw-ebv:Csv"] = csv;
        using var host = WorkerHosts.Build(settings);

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IBatchModelSource>());

        Assert.Contains("no column 'host-redshift' in the header (object_id, redshift, mw-ebv)", e.Message, StringComparison.Ordinal);
        Assert.Contains("set AlertBroker:Metadata:Sources:ztf:host-redshift:Column", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(":Csv or :RedisHash", e.Message, StringComparison.Ordinal);
    }
    // The other half of the rule: a source nobody configured leaves the model unusable here (exit 3), as before.
    [OnnxFact]
    public void Host_MetadataSourceNotConfigured_ModelUnavailable()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "meta-none"), "z-meta", "1", 3, metadata: true, surveys: ["ztf"]);
        var csv = Path.Combine(_root, "host-only-ebv.csv");
        File.WriteAllLines(csv, ["object_id,mw-ebv", "ZTF1,0.02"]);
        var settings = Settings(dir);
        settings["AlertBroker:Metadata:Sources:ztf:mw-ebv:Csv"] = csv;
        using var host = WorkerHosts.Build(settings);

        var e = Assert.Throws<ModelUnavailableException>(() => host.Services.GetRequiredService<IBatchModelSource>());

        Assert.Contains("set AlertBroker:Metadata:Sources:ztf:host-redshift:Csv or :RedisHash", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void Host_MaxStreamClientsBelowOne_IsAConfigurationErrorNamingTheKey(string value)
    {
        var settings = Settings();
        settings["AlertBroker:Web:MaxStreamClients"] = value;
        using var host = WorkerHosts.Build(settings);

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<WebOptions>>().Value);

        Assert.Contains(e.Failures, f => f.StartsWith($"AlertBroker:Web:MaxStreamClients must be at least 1 (it is {value})", StringComparison.Ordinal));
    }

    [Fact]
    public void Host_MaxStreamClients_BoundFromTheWebSection()
    {
        var settings = Settings();
        settings["AlertBroker:Web:MaxStreamClients"] = "7";
        using var host = WorkerHosts.Build(settings);

        Assert.Equal(7, host.Services.GetRequiredService<IOptions<WebOptions>>().Value.MaxStreamClients);
        Assert.Equal(100, new WebOptions().MaxStreamClients);
    }

    private static KafkaOptions Kafka(Action<KafkaOptions> change)
    {
        var o = new KafkaOptions { BootstrapServers = "127.0.0.1:9092", Topics = ["ztf"] };
        change(o);
        return o;
    }

    private static string Failure(KafkaOptions o)
    {
        var result = new KafkaOptionsValidator().Validate(null, o);
        Assert.True(result.Failed, "accepted");
        return result.FailureMessage;
    }

    // Properties:bootstrap.servers replaced BootstrapServers (set after it): the worker connected elsewhere than every
    // message and check named.
    [Theory]
    [InlineData("bootstrap.servers", "10.0.0.9:9092", "BootstrapServers")]
    [InlineData("metadata.broker.list", "10.0.0.9:9092", "BootstrapServers")]
    [InlineData("group.id", "other", "GroupId")]
    public void Validate_PropertyReplacingATypedSetting_FailsNamingBoth(string name, string value, string key)
    {
        var message = Failure(Kafka(o => o.Properties[name] = value));

        Assert.Contains($"AlertBroker:Kafka:Properties:{name} ({value}) contradicts AlertBroker:Kafka:{key}", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PropertyRepeatingATypedSetting_Accepted()
    {
        var result = new KafkaOptionsValidator().Validate(null, Kafka(o =>
        {
            o.Properties["bootstrap.servers"] = "127.0.0.1:9092";
            o.Properties["group.id"] = "alertbroker";
        }));

        Assert.False(result.Failed, result.FailureMessage);
    }

    // The worker read its own dead letters back and dead-lettered them again, without end.
    [Theory]
    [InlineData("DeadLetterTopic")]
    [InlineData("OutputTopic")]
    [InlineData("ShadowTopic")]
    public void Validate_OutputTopicIsAnInputTopic_FailsNamingBoth(string key)
    {
        var o = Kafka(o => typeof(KafkaOptions).GetProperty(key)!.SetValue(o, "ztf"));

        var message = Failure(o);

        Assert.Contains($"AlertBroker:Kafka:{key} 'ztf' is also an input topic (AlertBroker:Kafka:Topics)", message, StringComparison.Ordinal);
    }

    // run --output-topic o --dead-letter-topic o was accepted: classifications and dead letters in one topic.
    [Theory]
    [InlineData("OutputTopic", "DeadLetterTopic")]
    [InlineData("OutputTopic", "ShadowTopic")]
    [InlineData("DeadLetterTopic", "ShadowTopic")]
    public void Validate_TwoOutputsInOneTopic_FailsNamingBoth(string first, string second)
    {
        var o = Kafka(o =>
        {
            typeof(KafkaOptions).GetProperty(first)!.SetValue(o, "shared");
            typeof(KafkaOptions).GetProperty(second)!.SetValue(o, "shared");
        });

        Assert.Contains($"AlertBroker:Kafka:{first} and {second} are both 'shared'", Failure(o), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PatternMatchesDeadLetterTopic_FailsNamingThePattern()
    {
        var message = Failure(Kafka(o =>
        {
            o.Topics = [];
            o.TopicPattern = "^alertbroker-.*";
        }));

        Assert.Contains("AlertBroker:Kafka:DeadLetterTopic 'alertbroker-dead-letters' matches AlertBroker:Kafka:TopicPattern '^alertbroker-.*'", message, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Kafka:OutputTopic 'alertbroker-classifications' matches", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PatternNotMatchingOutputs_NoLoopReported()
    {
        var result = new KafkaOptionsValidator().Validate(null, Kafka(o =>
        {
            o.Topics = [];
            o.TopicPattern = "^ztf_.*";
        }));

        Assert.DoesNotContain("without end", result.FailureMessage ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InvalidTopicPattern_FailsNamingTheKey()
    {
        var message = Failure(Kafka(o => o.TopicPattern = "^ztf["));

        Assert.Contains("AlertBroker:Kafka:TopicPattern '^ztf[' is not a valid regular expression", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Validate_CommitIntervalNotPositive_Fails(int ms)
    {
        Assert.Contains("AlertBroker:Kafka:CommitIntervalMs must be between 1 and 86400000", Failure(Kafka(o => o.CommitIntervalMs = ms)), StringComparison.Ordinal);
    }

    // TtlHours=1e300 ended in "fatal: OverflowException: TimeSpan overflowed", exit 70. Below one second (1e-7 hours) Redis
    // was told 0 ms, which it reads as "no expiry": objects kept forever, while the in-memory store forgot them at once.
    [Theory]
    [InlineData(1e300)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(87_601)]
    [InlineData(-1)]
    [InlineData(1e-7)]
    [InlineData(0.000277)]
    public void Validate_TtlHoursNotFiniteOrOutOfRange_Fails(double hours)
    {
        var result = new StateOptionsValidator().Validate(null, new StateOptions { TtlHours = hours });

        Assert.True(result.Failed);
        Assert.Contains("AlertBroker:State:TtlHours must be 0 (keep forever) or a number of hours from 1 second (0.000278) up to 87600", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1.0 / 3600)]
    [InlineData(24)]
    [InlineData(87_600)]
    public void Validate_TtlHoursInRange_Succeeds(double hours)
    {
        Assert.True(new StateOptionsValidator().Validate(null, new StateOptions { TtlHours = hours }).Succeeded);
        Assert.True(TimeSpan.FromHours(hours) >= TimeSpan.Zero);
    }

    [Fact]
    public void Validate_SchemaDirectoryMissing_FailsNamingTheKey()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ab-none-" + Guid.NewGuid().ToString("N"));

        var result = new SchemaOptionsValidator().Validate(null, new SchemaOptions { SchemaDirectory = missing });

        Assert.True(result.Failed);
        Assert.Contains($"AlertBroker:Schemas:SchemaDirectory '{missing}' is not a directory", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new SchemaOptionsValidator().Validate(null, new SchemaOptions { SchemaDirectory = Path.GetTempPath() }).Succeeded);

        // Both sources: the registry was used and the directory ignored without a word.
        var both = new SchemaOptionsValidator().Validate(null, new SchemaOptions { SchemaDirectory = Path.GetTempPath(), RegistryUrl = "http://127.0.0.1:8081" });
        Assert.Contains("RegistryUrl (--schema-registry) and SchemaDirectory (--schema-dir) are two sources of schemas: set one", both.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RegistryDirectoryMissing_FailsSayingItDoesNotExist()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ab-none-" + Guid.NewGuid().ToString("N"));

        var result = new ModelOptionsValidator().Validate(null, new ModelOptions { RegistryDirectory = missing });

        Assert.True(result.Failed);
        Assert.Contains($"AlertBroker:Model:RegistryDirectory '{missing}' does not exist", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("collector:4317")]
    [InlineData("ftp://collector:4317")]
    [InlineData("collector")]
    public void Validate_OtlpEndpointWithoutHttpScheme_Fails(string endpoint)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { OtlpEndpoint = endpoint });

        Assert.True(result.Failed);
        Assert.Contains("AlertBroker:Telemetry:OtlpEndpoint", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { OtlpEndpoint = "http://collector:4317" }).Succeeded);
    }

    [Theory]
    [InlineData("broker.example.org:9464", "is not a host name")]
    [InlineData("http://broker.example.org", "is not a host name")]
    [InlineData("localhost;broker/ui", "is not a host name")]
    [InlineData("::1", "write it in brackets ([::1])")]
    [InlineData("[broker]", "is not an IPv6 address in brackets")]
    [InlineData("broker.*.org", "is not a host name")]
    public void Validate_AllowedHostThatIsNotAHostName_FailsNamingIt(string hosts, string problem)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { AllowedHosts = hosts });

        Assert.True(result.Failed);
        Assert.Contains("AlertBroker:Telemetry:AllowedHosts: '", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(problem, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "127.0.0.1", "localhost;127.0.0.1;[::1]")]
    [InlineData("", "::1", "localhost;127.0.0.1;[::1]")]
    [InlineData(null, "0.0.0.0", "*")]
    [InlineData(null, "10.1.2.3", "*")]
    [InlineData(" broker.example.org ; *.svc.cluster.local;[::1],10.0.0.5 ", "127.0.0.1", "broker.example.org;*.svc.cluster.local;[::1];10.0.0.5")]
    public void AllowedHostList_GivenOrTheDefaultForTheAddress(string? hosts, string address, string expected)
    {
        var options = new TelemetryOptions { AllowedHosts = hosts, HttpAddress = address };

        Assert.True(new TelemetryOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(expected, string.Join(';', options.AllowedHostList()));
    }

    // Mistyped keys were ignored without a word.
    [Fact]
    public void Find_MistypedKeys_NamesEachWithTheLikelyKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BatchSzie"] = "5",
            ["AlertBroker:Kafak:BatchSize"] = "5",
            ["AlertBroker:Candidates:MinDetection"] = "3",
            ["AlertBroker:Metadata:Sources:ztf:host-redshift:Colum"] = "z",
            ["AlertBroker:State:Zzzzzzzz"] = "1",
        }).Build();

        var found = ConfigurationKeyCheck.Find(configuration).ToDictionary(f => f.Key, f => f.DidYouMean);

        Assert.Equal("AlertBroker:Kafka:BatchSize", found["AlertBroker:Kafka:BatchSzie"]);
        Assert.Equal("AlertBroker:Kafka", found["AlertBroker:Kafak"]);
        Assert.Equal("AlertBroker:Candidates:MinDetections", found["AlertBroker:Candidates:MinDetection"]);
        Assert.Equal("AlertBroker:Metadata:Sources:ztf:host-redshift:Column", found["AlertBroker:Metadata:Sources:ztf:host-redshift:Colum"]);
        Assert.Null(found["AlertBroker:State:Zzzzzzzz"]);
        Assert.Equal(5, found.Count);
    }

    [Fact]
    public void Find_EveryKindOfValidKey_NothingReported()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BatchSize"] = "5",
            ["AlertBroker:kafka:groupid"] = "g",
            ["AlertBroker:Kafka:Topics:0"] = "ztf",
            ["AlertBroker:Kafka:Properties:session.timeout.ms"] = "6000",
            ["AlertBroker:Model:Paths:1"] = "models/x/1",
            ["AlertBroker:Metadata:Sources:ztf:host-redshift:Csv"] = "z.csv",
            ["AlertBroker:Metadata:Sources:lsst:mw-ebv:RedisHash"] = "ebv",
            ["AlertBroker:Candidates:MinDetections"] = "3",
            ["AlertBroker:Redis:Tls"] = "true",
            ["AlertBroker:Web:RefreshSeconds"] = "2",
            ["AlertBroker:Alerts:ZtfMinMjd"] = "58000",
            ["AlertBroker:Telemetry:HttpPort"] = "0",
            ["AlertBroker:Schemas:SchemaDirectory"] = "/tmp",
            ["AlertBroker:State:TtlHours"] = "24",
            ["Logging:LogLevel:Default"] = "Warning",
        }).Build();

        Assert.Empty(ConfigurationKeyCheck.Find(configuration));
        Assert.Empty(ConfigurationKeyCheck.ShapeProblems(configuration));
    }

    // Found by writing every worker setting as an object, a list, a number, … into a --config file: an object or a list
    // for a setting without a default (SaslUsername, SslCaLocation, RegistryPassword …) ended in "fatal: Cannot create
    // instance of type 'System.String'" (exit 70, no key named); SecurityProtocol "-1" bound as an undefined value and
    // ended in ArgumentOutOfRangeException (exit 70); a single value for a list (AlertBroker__Kafka__Topics=ztf) was
    // ignored without a word.
    [Theory]
    [InlineData("AlertBroker:Kafka:SaslUsername:name", "x", "AlertBroker:Kafka:SaslUsername takes one value, not an object or a list (it holds name).")]
    [InlineData("AlertBroker:Schemas:RegistryPassword:0", "x", "AlertBroker:Schemas:RegistryPassword takes one value, not an object or a list (it holds 0).")]
    [InlineData("AlertBroker:Kafka:Properties:linger.ms:a", "5", "AlertBroker:Kafka:Properties:linger.ms takes one value, not an object or a list (it holds a).")]
    [InlineData("AlertBroker:Kafka:SecurityProtocol", "-1", "AlertBroker:Kafka:SecurityProtocol: '-1' is not one of Plaintext, Ssl, SaslPlaintext or SaslSsl.")]
    [InlineData("AlertBroker:Kafka:SaslMechanism", "Plain,ScramSha256", "AlertBroker:Kafka:SaslMechanism: 'Plain,ScramSha256' is not one of Plain, ScramSha256 or ScramSha512.")]
    [InlineData("AlertBroker:State:Store", "7", "AlertBroker:State:Store: '7' is not one of")]
    [InlineData("AlertBroker:Kafka:Topics", "ztf", "AlertBroker:Kafka:Topics takes a list (a JSON array; as environment variables AlertBroker__Kafka__Topics__0, __1 …), not one value ('ztf').")]
    [InlineData("AlertBroker:Model:Paths", "models/x/1", "AlertBroker:Model:Paths takes a list")]
    [InlineData("AlertBroker:Metadata:Sources", "z.csv", "AlertBroker:Metadata:Sources takes named settings (a JSON object: NAME: VALUE, …), not one value ('z.csv').")]
    [InlineData("AlertBroker:Metadata:Sources:ztf:host-redshift", "z.csv", "AlertBroker:Metadata:Sources:ztf:host-redshift takes settings (Csv, Column, RedisHash), not one value ('z.csv').")]
    public void ShapeProblems_AValueOfTheWrongShape_NamesTheKey(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BatchSize"] = "5",
            [key] = value,
        }).Build();

        var problem = Assert.Single(ConfigurationKeyCheck.ShapeProblems(configuration));

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeProblems_EnumNamesInAnyCaseAndEmptyValues_AreFine()
    {
        // Names are matched as the binder matches them (any case, spaces around); "" and JSON's [] / {} / null are no value.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:SecurityProtocol"] = " saslssl ",
            ["AlertBroker:Kafka:SaslMechanism"] = "",
            ["AlertBroker:Kafka:Topics"] = "",
            ["AlertBroker:Kafka:Properties"] = "",
            ["AlertBroker:Kafka:TopicPattern"] = null,
            ["AlertBroker:State:Store"] = "InMemory",
        }).Build();

        Assert.Empty(ConfigurationKeyCheck.ShapeProblems(configuration));
    }
}
