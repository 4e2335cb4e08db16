using System.Text;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Simulation;
using Confluent.Kafka;

namespace AlertBroker.Cli.Tests;

/// <summary><c>alertbroker consume</c> as a process against librdkafka's mock cluster: every kind of message it decodes.</summary>
public sealed class ConsumeCommandTests : IDisposable
{
    private readonly MockKafkaCluster _kafka = MockKafkaCluster.Start();
    private readonly string _root = Directory.CreateTempSubdirectory("ab-consume-").FullName;
    private readonly string _topic = "mixed-" + Guid.NewGuid().ToString("N")[..8];

    public ConsumeCommandTests()
    {
        _kafka.CreateTopics(_topic);
    }

    public void Dispose()
    {
        _kafka.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void AClassificationWithoutProbabilities_SaysWhy_InTextAndJson()
    {
        var c = new Classification("ZTF18aaxjdyr", 1, 1, Survey.Ztf, 59415.38, "ztf-bts", "2.5.0", [], [], 24, 0, ScoringPath.None, 1, 2, 3)
        {
            Reason = "not a transient candidate: negative difference flux (-2180.011 µJy), fainter than the template",
        };
        var m = new AlertBroker.Cli.Consume.TopicMessage("out", 0, 5, 1, c.ObjectId, AlertBroker.Cli.Consume.TopicMessageType.Classification) { Classification = c };

        Assert.Contains("MJD 59415.38000 not a transient candidate: negative difference flux", AlertBroker.Cli.Consume.TopicMessageDecoder.Describe(m), StringComparison.Ordinal);

        // The scoring as the output schema spells it, in the text too (until 2026-12-07 the text said "None", the JSON "NONE").
        Assert.Contains("(24 observations, 0 steps, NONE, ztf-bts@2.5.0)", AlertBroker.Cli.Consume.TopicMessageDecoder.Describe(m), StringComparison.Ordinal);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            AlertBroker.Cli.Consume.TopicMessageDecoder.WriteJson(w, m);
        }

        var json = JsonDocument.Parse(buffer.WrittenMemory).RootElement;
        Assert.Equal(c.Reason, json.GetProperty("reason").GetString());
        Assert.Equal("NONE", json.GetProperty("scoring").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("topClass").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("topProbability").ValueKind);
    }

    [SharedDataFact]
    public async Task Consume_FromBeginningJsonl_DecodesClassificationsDeadLettersAndAlertsInEveryFraming()
    {
        var ztf = SyntheticZtfAlerts.Generate(1, 1, seed: 61)[0];
        var wire = new SurveyWireFormat();
        var rubin = wire.ToWire(File.ReadAllBytes(SharedData.AvroFiles("lsst-real-v7_4").First())).First();
        var schemaDir = Path.Combine(_root, "schemas");
        wire.WriteSchemaDirectory(schemaDir);
        var classification = new Classification("ZTF26aaaaaaa", 42, 42, Survey.Ztf, 60123.5, "consume-gru", "3", ["SNIa", "SNII"], [0.25f, 0.75f], 7, 3, ScoringPath.Incremental, 1000, 2000, 3000);
        var deadLetterHeaders = new Headers
        {
            { "alertbroker.error.kind", "CorruptAvro"u8.ToArray() },
            { "alertbroker.error.message", "block 1 ends early"u8.ToArray() },
            { KafkaAlertWorker.SourceTopicHeader, "ztf-in"u8.ToArray() },
            { KafkaAlertWorker.SourcePartitionHeader, "3"u8.ToArray() },
            { KafkaAlertWorker.SourceOffsetHeader, "17"u8.ToArray() },
            { KafkaAlertWorker.PayloadSizeHeader, "20971520"u8.ToArray() },
            { KafkaAlertWorker.PayloadSha256Header, "ab12"u8.ToArray() },
            { KafkaAlertWorker.PayloadKeptHeader, "1000"u8.ToArray() },
        };
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            // One partition, so the order is known.
            var tp = new TopicPartition(_topic, 0);
            await producer.ProduceAsync(tp, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(classification.ObjectId), Value = new ClassificationCodec().Encode(classification) });
            await producer.ProduceAsync(tp, new Message<byte[]?, byte[]> { Value = new byte[1000], Headers = deadLetterHeaders });
            await producer.ProduceAsync(tp, new Message<byte[]?, byte[]> { Value = ztf.Message });
            await producer.ProduceAsync(tp, new Message<byte[]?, byte[]> { Value = rubin });
            await producer.ProduceAsync(tp, new Message<byte[]?, byte[]> { Value = "not avro"u8.ToArray() });
        }

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
            ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--jsonl", "--limit", "5", "--schema-dir", schemaDir]);

        Assert.True(code == 0, output);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["classification", "dead_letter", "alert", "alert", "unknown"], lines.Select(l => l.GetProperty("type").GetString()));

        var c = lines[0];
        Assert.Equal("ZTF26aaaaaaa", c.GetProperty("objectId").GetString());
        Assert.Equal("ZTF26aaaaaaa", c.GetProperty("key").GetString());
        Assert.Equal(7, c.GetProperty("observationCount").GetInt32());
        Assert.Equal("SNII", c.GetProperty("topClass").GetString());
        Assert.Equal(0.75, c.GetProperty("probabilities").GetProperty("SNII").GetDouble(), 6);

        var d = lines[1];
        Assert.Equal("CorruptAvro", d.GetProperty("kind").GetString());
        Assert.True(d.GetProperty("truncated").GetBoolean());
        Assert.Equal(20971520, d.GetProperty("originalBytes").GetInt64());
        Assert.Equal("ab12", d.GetProperty("sha256").GetString());
        Assert.Equal(17, d.GetProperty("source").GetProperty("offset").GetInt64());

        Assert.Equal(ztf.ObjectId, lines[2].GetProperty("objectId").GetString());
        Assert.Equal("ztf", lines[2].GetProperty("survey").GetString());
        Assert.Equal("lsst", lines[3].GetProperty("survey").GetString());
        Assert.Contains("NotAvro", lines[4].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("[consume] 5 messages", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_TextWithLimit_StopsAfterNLines()
    {
        var alerts = SyntheticZtfAlerts.Generate(3, 2, seed: 62);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            foreach (var a in alerts)
            {
                await producer.ProduceAsync(new TopicPartition(_topic, 1), new Message<byte[]?, byte[]> { Value = a.Message });
            }
        }

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--limit", "4"]);

        Assert.True(code == 0, output);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^mixed-\w+\[1\]@\d+ alert ztf 3\.3 ZTF\w+ source \d+ MJD", l));
    }

    [Fact]
    public async Task Consume_ACompressionBomb_IsTooLargeAfterTheWorkersLimit_AndTheNextMessageIsRead()
    {
        var good = SyntheticZtfAlerts.Generate(1, 1, seed: 63)[0];
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[]?, byte[]> { Value = SyntheticZtfAlerts.CompressionBomb(64 * 1024 * 1024) });
            await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[]?, byte[]> { Value = good.Message });
        }

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--limit", "2", "--jsonl"]);

        Assert.True(code == 0, output);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("TooLarge: ", lines[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("16777216", lines[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(good.ObjectId, lines[1].GetProperty("objectId").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Consume_StandardOutputFull_ExitsOneSayingSo(bool jsonl)
    {
        // `consume > /dev/full` (a full disk behind a redirection): "unexpected error (IOException)", exit 70, before.
        Assert.True(File.Exists("/dev/full"), "Linux's /dev/full");
        var alerts = SyntheticZtfAlerts.Generate(2, 1, seed: 63);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            foreach (var a in alerts)
            {
                await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[]?, byte[]> { Value = a.Message });
            }
        }

        string[] consume = ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--limit", "2", .. jsonl ? new[] { "--jsonl" } : []];
        var run = await AlertBrokerProcess.RunToEndAsync(["-c", "exec \"$0\" \"$@\" > /dev/full", AlertBrokerProcess.ProgramPath, .. consume], program: "/bin/bash");

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("alertbroker: cannot write standard output: No space left on device", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_NewMessagesOnlyWithIdleTimeout_SkipsOlderAndEndsZero()
    {
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(_topic, new Message<byte[]?, byte[]> { Value = SyntheticZtfAlerts.Generate(1, 1, seed: 63)[0].Message });
        }

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--timeout", "3"]);

        Assert.True(code == 0, output);
        Assert.Equal(string.Empty, stdout.Trim());
        Assert.Contains("[consume] 0 messages", output, StringComparison.Ordinal);
    }

    // A reader given no partition (a topic that is not there; a group still rebalancing after a stopped run, until that
    // member's session ends) read nothing and said "0 messages", exit 0, as for an empty topic: an operator concluded no
    // dead letter was left. Now it says no partition was assigned; the new-messages run above (one assigned) does not.
    [Fact]
    public async Task Consume_NoPartitionAssigned_SaysSoRatherThanAnEmptyTopic()
    {
        var missing = "not-there-" + Guid.NewGuid().ToString("N")[..8];

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", missing, "--timeout", "0.5"]);
        var (_, present, _) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--timeout", "0.5"]);

        Assert.True(code == 0, output);
        Assert.Equal(string.Empty, stdout.Trim());
        var flat = string.Concat(output.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains("consume:nopartitionof" + missing + "wasassignedtothisreader", flat, StringComparison.Ordinal);
        Assert.Contains("isthetopicthere?", flat, StringComparison.Ordinal);
        Assert.DoesNotContain("nopartitionof", string.Concat(present.Where(c => !char.IsWhiteSpace(c))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_IdleTimeoutShorterThanTheGroupJoin_StillReadsWhatIsThere()
    {
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            foreach (var a in SyntheticZtfAlerts.Generate(3, 1, seed: 64))
            {
                await producer.ProduceAsync(_topic, new Message<byte[]?, byte[]> { Value = a.Message });
            }
        }

        // Joining the group takes the broker's initial rebalance delay (3 s), and after the assignment the start offsets are
        // looked up before the first fetch: the idle time counts only once every partition is read to its end. (Counted from
        // the assignment, a loaded machine's slow first fetch ended the command before it read anything, even with 1 s.)
        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--timeout", "0.05"]);

        Assert.True(code == 0, output);
        Assert.Equal(3, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Consume_KafkaUnreachable_ExitsFour()
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["consume", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--timeout", "1"], timeout: TimeSpan.FromSeconds(60));

        Assert.True(code == 4, $"exit code {code}: {output}");
        Assert.Contains("Kafka at 127.0.0.1:1 did not answer:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[consume] 0 messages", output, StringComparison.Ordinal);
    }

    // replay --to-kafka queued every message, flushed for a minute, then said "published 0 of N" (exit 1) between pages of
    // librdkafka's raw connection errors: now the brokers must answer first, as for consume.
    [SharedDataFact]
    public async Task ReplayToKafka_KafkaUnreachable_ExitsFourInOneLine()
    {
        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
            ["replay", SharedData.Path("alert-samples", "ztf"), "--to-kafka", "--topic", "t", "--bootstrap-servers", "127.0.0.1:1"], timeout: TimeSpan.FromSeconds(60));

        Assert.True(code == 4, $"exit code {code}: {output}");
        Assert.Contains("Kafka at 127.0.0.1:1 did not answer:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("%3|", output, StringComparison.Ordinal);
        Assert.DoesNotContain("published", stdout, StringComparison.Ordinal);
    }

    // The Kafka security variables replay reads, of the wrong shape: an enum as a number was taken as a value no code handles,
    // an object for the SASL user was "Cannot create instance of type 'System.String'".
    [SharedDataTheory]
    [InlineData("AlertBroker__Kafka__SecurityProtocol", "-1", "AlertBroker:Kafka:SecurityProtocol: '-1' is not one of Plaintext, Ssl, SaslPlaintext or SaslSsl.")]
    [InlineData("AlertBroker__Kafka__SaslUsername__name", "x", "AlertBroker:Kafka:SaslUsername takes one value, not an object or a list (it holds name).")]
    public async Task ReplayToKafka_SecurityVariableOfTheWrongShape_ExitsTwoNamingIt(string variable, string value, string says)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(
            ["replay", SharedData.Path("alert-samples", "ztf"), "--to-kafka", "--topic", "t", "--bootstrap-servers", "127.0.0.1:1"],
            new Dictionary<string, string?> { [variable] = value }, TimeSpan.FromSeconds(60));

        Assert.True(code == 2, $"exit code {code}: {output}");
        Assert.Contains("invalid Kafka settings: " + says, output, StringComparison.Ordinal);
    }

    // consume read in plaintext whatever AlertBroker__Kafka__SecurityProtocol said (it took only --kafka-property, so its
    // SASL password could be given only on the command line, in ps). It applies the worker's settings now, as replay
    // --to-kafka does: SASL over TLS against the mock's plaintext listener is not read in plaintext but fails the
    // handshake, exit 4, the password written nowhere.
    [SharedDataTheory]
    [InlineData("consume")]
    [InlineData("consume-redrive")]
    [InlineData("replay")]
    public async Task KafkaSecurityFromTheEnvironment_PlaintextBrokers_NotReadInPlaintextExitsFour(string command)
    {
        const string Password = "consume-Sasl-Secret-4711";
        string[] args = command switch
        {
            "consume" => ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--timeout", "2"],
            "consume-redrive" => ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--timeout", "2", "--kind", "InvalidValue", "--redrive", "t2"],
            _ => ["replay", SharedData.Path("alert-samples", "ztf"), "--to-kafka", "--topic", _topic, "--bootstrap-servers", _kafka.BootstrapServers, "--quiet"],
        };
        var environment = new Dictionary<string, string?>
        {
            ["AlertBroker__Kafka__SecurityProtocol"] = "SaslSsl",
            ["AlertBroker__Kafka__SaslMechanism"] = "ScramSha512",
            ["AlertBroker__Kafka__SaslUsername"] = "alertbroker",
            ["AlertBroker__Kafka__SaslPassword"] = Password,
        };
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(_topic, new Message<byte[]?, byte[]> { Value = [1, 2, 3] });
        }

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(args, environment, TimeSpan.FromSeconds(90));

        Assert.True(code == 4, $"exit code {code}: {output}");
        Assert.Contains($"Kafka at {_kafka.BootstrapServers} did not answer:", output, StringComparison.Ordinal);
        // "SSL handshake failed: …", or "… connection reset by peer (after 1ms in state SSL_HANDSHAKE)", as the timing falls.
        Assert.Matches("(?i)ssl[ _]handshake", output);
        Assert.Empty(stdout);
        Assert.DoesNotContain(Password, output + stdout, StringComparison.Ordinal);
    }

    // The same refusals as replay's (ReplayToKafka_SecurityVariableOfTheWrongShape_ExitsTwoNamingIt) and run's: a variable
    // of the wrong shape, or SASL settings without a SASL protocol, exit 2 naming the key, the password not echoed.
    [Theory]
    [InlineData("consume", "AlertBroker__Kafka__SecurityProtocol", "-1", "invalid Kafka settings: AlertBroker:Kafka:SecurityProtocol: '-1' is not one of Plaintext, Ssl, SaslPlaintext or SaslSsl.")]
    [InlineData("consume", "AlertBroker__Kafka__SaslUsername__name", "x", "invalid Kafka settings: AlertBroker:Kafka:SaslUsername takes one value, not an object or a list (it holds name).")]
    [InlineData("consume", "AlertBroker__Kafka__SaslPassword", "consume-Secret-0815", "AlertBroker:Kafka:SaslPassword is set but AlertBroker:Kafka:SecurityProtocol is not set (plaintext): SASL needs SaslPlaintext or SaslSsl.")]
    [InlineData("consume-redrive", "AlertBroker__Kafka__SslCaLocation", "/nonexistent/ca.pem", "AlertBroker:Kafka:SslCaLocation is set but AlertBroker:Kafka:SecurityProtocol is not set (plaintext): TLS needs Ssl or SaslSsl.")]
    public async Task Consume_KafkaSecurityVariableWrong_ExitsTwoNamingIt(string command, string variable, string value, string says)
    {
        string[] args = ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--from-beginning", "--timeout", "1"];
        if (command == "consume-redrive")
        {
            args = [.. args, "--kind", "InvalidValue", "--redrive", "t2"];
        }

        var (code, output, _) = await AlertBrokerProcess.RunAsync(args, new Dictionary<string, string?> { [variable] = value }, TimeSpan.FromSeconds(60));

        Assert.True(code == 2, $"exit code {code}: {output}");
        Assert.Contains(says, output, StringComparison.Ordinal);
        Assert.DoesNotContain("[consume]", output, StringComparison.Ordinal);
        if (variable.EndsWith("Password", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(value, output, StringComparison.Ordinal);
        }
    }

    // librdkafka's reason for refusing a configuration was printed as it came, a secret it quoted included.
    [Fact]
    public void KafkaConfigurationErrorText_ReasonQuotingASecret_Redacted()
    {
        var security = new AlertBroker.Worker.Hosting.KafkaOptions
        {
            SaslPassword = "typed-Secret-1",
            Properties = new Dictionary<string, string> { ["ssl.key.password"] = "passed-Secret-2" },
        };
        var refused = new ArgumentException("Invalid value \"typed-Secret-1\" for configuration property \"sasl.mechanisms\"; ssl.key.password=passed-Secret-2");

        var text = CliHelpers.KafkaConfigurationErrorText(refused, security);

        Assert.DoesNotContain("Secret", text, StringComparison.Ordinal);
        Assert.Contains("Invalid value \"*****\" for configuration property \"sasl.mechanisms\"", text, StringComparison.Ordinal);
    }

    [SharedDataTheory]
    [InlineData("consume")]
    [InlineData("consume-redrive")]
    [InlineData("replay")]
    public async Task KafkaPropertyLibrdkafkaRefuses_ExitsTwoSayingSo(string command)
    {
        string[] args = command switch
        {
            "consume" => ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic],
            "consume-redrive" => ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--kind", "InvalidValue", "--redrive", "t2"],
            _ => ["replay", SharedData.Path("alert-samples", "ztf"), "--to-kafka", "--topic", _topic, "--bootstrap-servers", _kafka.BootstrapServers],
        };

        // An unknown librdkafka key was the last-resort "unexpected error" (exit 70).
        var (code, output, _) = await AlertBrokerProcess.RunAsync([.. args, "--kafka-property", "bogus.prop=1"]);

        Assert.True(code == 2, $"exit code {code}: {output}");
        Assert.Contains("librdkafka does not accept the client configuration:", output, StringComparison.Ordinal);
        Assert.Contains("No such configuration property: \"bogus.prop\"", output, StringComparison.Ordinal);
    }

    // --kafka-property bootstrap.servers=… replaced --bootstrap-servers (set after it) while every message, the
    // unreachable one included, named --bootstrap-servers; group.id replaced --group (or the throw-away group).
    [Theory]
    [InlineData("consume", "bootstrap.servers=127.0.0.1:1", "--bootstrap-servers")]
    [InlineData("consume", "metadata.broker.list=127.0.0.1:1", "--bootstrap-servers")]
    [InlineData("consume", "group.id=other", "--group")]
    [InlineData("replay", "bootstrap.servers=127.0.0.1:1", "--bootstrap-servers")]
    public async Task KafkaPropertyReplacingAnOption_ExitsTwoNamingIt(string command, string property, string option)
    {
        string[] args = command == "consume"
            ? ["consume", "--bootstrap-servers", "127.0.0.1:9092", "--topic", "t"]
            : ["replay", _root, "--to-kafka", "--topic", "t", "--bootstrap-servers", "127.0.0.1:9092"];

        var (code, output, _) = await AlertBrokerProcess.RunAsync([.. args, "--kafka-property", property]);

        Assert.True(code == 2, $"exit code {code}: {output}");
        Assert.Contains($"--kafka-property {property} contradicts {option}", output, StringComparison.Ordinal);
    }

    // A cut archive among the inputs was only counted ("1 unreadable inputs skipped"): which one, and why, was left to find
    // by hand. The rest is published and the exit code is replay's (0 when alerts were read).
    [SharedDataFact]
    public async Task ReplayToKafka_ACutInput_NamedWithItsReasonAndTheRestPublished()
    {
        // A nightly archive of two alerts, cut short; and one whole alert file beside it.
        var inputs = Directory.CreateDirectory(Path.Combine(_root, "inputs")).FullName;
        var samples = Directory.GetFiles(SharedData.Path("alert-samples", "ztf"), "*.avro").Order(StringComparer.Ordinal).ToArray();
        File.Copy(samples[0], Path.Combine(inputs, "a-good.avro"));
        var archive = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(archive, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new System.Formats.Tar.TarWriter(gzip))
        {
            tar.WriteEntry(samples[1], "one.avro");
            tar.WriteEntry(samples[2], "two.avro");
        }

        var cut = Path.Combine(inputs, "b-night.tar.gz");
        File.WriteAllBytes(cut, archive.ToArray()[..(int)(archive.Length * 0.6)]);

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["replay", inputs, "--to-kafka", "--topic", _topic, "--bootstrap-servers", _kafka.BootstrapServers, "--quiet"]);

        Assert.True(code == 0, $"exit code {code}: {output}");
        var flat = string.Concat(output.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains(string.Concat(("not published, unreadable: " + cut).Where(c => !char.IsWhiteSpace(c))), flat, StringComparison.Ordinal);
        Assert.Contains("1unreadableinputskipped", flat, StringComparison.Ordinal);
    }

    // With the largest --repeat and a --limit, the passes went on (empty) after the limit: 2^31 of them.
    [SharedDataFact]
    public async Task ReplayToKafka_LimitWithHugeRepeat_StopsAtTheLimit()
    {
        var topic = "limit-" + Guid.NewGuid().ToString("N")[..8];
        var (code, output, _) = await AlertBrokerProcess.RunAsync(
            ["replay", SharedData.Path("alert-samples", "ztf"), "--to-kafka", "--topic", topic, "--bootstrap-servers", _kafka.BootstrapServers, "--repeat", "2147483647", "--limit", "5", "--quiet"],
            timeout: TimeSpan.FromSeconds(120));

        Assert.True(code == 0, $"exit code {code}: {output}");
        Assert.Contains("published 5 of 5 messages to " + topic, output, StringComparison.Ordinal);
    }

    // A container of many alerts (simulate alerts --format avro) went out as one message of every alert: librdkafka
    // refused it ("Broker: Message size too large") and replay ended as an unexpected error, exit 70. ZTF publishes one
    // container per alert: it is split, and every message is one alert the worker decodes.
    [Fact]
    public async Task ReplayToKafka_ContainerOfManyAlerts_PublishesOneMessagePerAlert()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-replay-many-" + Guid.NewGuid().ToString("N")[..8]);
        var file = Path.Combine(dir, "night.avro");
        try
        {
            var (made, madeOutput, _) = await AlertBrokerProcess.RunAsync(["simulate", "alerts", "--format", "avro", "--out", file, "--nights", "3", "--objects-per-night", "10", "--no-cutouts"]);
            Assert.True(made == 0, madeOutput);
            var all = new List<Alert>();
            var alerts = new AlertDecoder().Decode(File.ReadAllBytes(file), all);
            Assert.True(alerts > 10, madeOutput);
            var topic = "many-" + Guid.NewGuid().ToString("N")[..8];

            var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
                ["replay", file, "--to-kafka", "--topic", topic, "--bootstrap-servers", _kafka.BootstrapServers, "--quiet"], timeout: TimeSpan.FromSeconds(120));

            Assert.True(code == 0, $"exit code {code}: {output}");
            Assert.Contains($"published {alerts:N0} of {alerts:N0} messages to {topic}", stdout, StringComparison.Ordinal);
            using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "g-" + topic, AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
            consumer.Subscribe(topic);
            var decoder = new AlertDecoder();
            var objects = new HashSet<string>(StringComparer.Ordinal);
            for (var read = 0; read < alerts;)
            {
                var result = consumer.Consume(TimeSpan.FromSeconds(30));
                Assert.NotNull(result);
                var one = new List<Alert>();
                decoder.Decode(result.Message.Value, one);
                var alert = Assert.Single(one);
                Assert.Equal(alert.ObjectId, result.Message.Key);
                objects.Add(alert.ObjectId);
                read++;
            }

            Assert.True(objects.Count > 1);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Found by the state/replay bug hunt: inputs already in Confluent wire (archived from a topic, or simulate alerts
    // --framing confluent) could not be decoded by replay --to-kafka, which ignored --schema-dir and --schema-registry,
    // so every message went out without a key (an object's alerts spread over partitions), exit 0 without a word. The
    // schemas are looked up there now, and messages that still cannot be decoded are said.
    [Fact]
    public async Task ReplayToKafka_ConfluentWireInputs_KeyedThroughSchemaDir_AndUnkeyedOnesSaid()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-replay-wire-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (made, madeOutput, _) = await AlertBrokerProcess.RunAsync(["simulate", "alerts", "--survey", "lsst", "--nights", "1", "--objects-per-night", "5", "--no-cutouts", "--framing", "confluent", "--out", dir]);
            Assert.True(made == 0, madeOutput);
            var schemas = Path.Combine(dir, "schemas");
            Assert.True(Directory.Exists(schemas), madeOutput);

            var topic = "wire-" + Guid.NewGuid().ToString("N")[..8];
            var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
                ["replay", dir, "--to-kafka", "--topic", topic, "--bootstrap-servers", _kafka.BootstrapServers, "--schema-dir", schemas, "--quiet", "--write-schemas", Path.Combine(dir, "written")],
                timeout: TimeSpan.FromSeconds(120));
            Assert.True(code == 0, $"exit code {code}: {output}");
            Assert.DoesNotContain("warning", output, StringComparison.Ordinal);
            var sent = int.Parse(System.Text.RegularExpressions.Regex.Match(stdout, @"published (\d+) of \1 messages").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(sent > 0, stdout);
            var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new AlertBroker.Avro.DirectorySchemaLookup(schemas) });
            using (var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "g-" + topic, AutoOffsetReset = AutoOffsetReset.Earliest }).Build())
            {
                consumer.Subscribe(topic);
                for (var read = 0; read < sent; read++)
                {
                    var result = consumer.Consume(TimeSpan.FromSeconds(30));
                    Assert.NotNull(result);
                    Assert.Equal(decoder.DecodeSingle(result.Message.Value).ObjectId, result.Message.Key);
                }
            }

            // Without --schema-dir, the schemas/ folder simulate wrote beside the stream is read (until 2026-12-08 only
            // demo looked there, and every message went out unkeyed).
            var beside = await AlertBrokerProcess.RunAsync(
                ["replay", dir, "--to-kafka", "--topic", topic + "-1", "--bootstrap-servers", _kafka.BootstrapServers, "--quiet", "--write-schemas", Path.Combine(dir, "written")],
                timeout: TimeSpan.FromSeconds(120));
            Assert.True(beside.Code == 0, beside.Output);
            Assert.Contains($"published {sent} of {sent} messages", beside.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("warning", beside.Output, StringComparison.Ordinal);

            // The alerts elsewhere (not under the stream, whose schemas/ a night folder's parent holds), without their
            // schemas: unkeyed, and said.
            var moved = Directory.CreateDirectory(Path.Combine(dir + "-moved", "alerts")).FullName;
            foreach (var file in Directory.GetFiles(dir, "*.avro", SearchOption.AllDirectories))
            {
                File.Copy(file, Path.Combine(moved, Path.GetFileName(file)));
            }

            var unkeyed = await AlertBrokerProcess.RunAsync(
                ["replay", moved, "--to-kafka", "--topic", topic + "-2", "--bootstrap-servers", _kafka.BootstrapServers, "--quiet", "--write-schemas", Path.Combine(dir, "written")],
                timeout: TimeSpan.FromSeconds(120));
            Assert.True(unkeyed.Code == 0, unkeyed.Output);
            Assert.Contains($"warning: {sent} messages could not be decoded and went out without a key", unkeyed.Output, StringComparison.Ordinal);
            Assert.Contains("--schema-dir DIR or --schema-registry URL", unkeyed.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            if (Directory.Exists(dir + "-moved"))
            {
                Directory.Delete(dir + "-moved", recursive: true);
            }
        }
    }

    // Found by the scale-out hunt: the hint about Confluent-wire inputs followed every message that did not decode (a
    // container whose MJD is out of range, bytes that are no Avro at all), where no schema was missing.
    [Fact]
    public async Task ReplayToKafka_UndecodableForAnotherReason_NoSchemaHint()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-replay-junk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var junk = Path.Combine(dir, "junk.avro");
            File.WriteAllText(junk, "hello, not an alert");
            var topic = "junk-" + Guid.NewGuid().ToString("N")[..8];

            var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
                ["replay", junk, "--to-kafka", "--topic", topic, "--bootstrap-servers", _kafka.BootstrapServers, "--quiet", "--write-schemas", Path.Combine(dir, "written")],
                timeout: TimeSpan.FromSeconds(120));

            Assert.True(code == 0, output);
            Assert.Contains("published 1 of 1 messages", stdout, StringComparison.Ordinal);
            Assert.Contains($"warning: 1 message could not be decoded and went out without a key (their object's alerts may land on several partitions, out of order); the first: {junk}: not an Avro container", output, StringComparison.Ordinal);
            Assert.DoesNotContain("--schema-dir", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Rubin alerts go out in Confluent wire; the schema of each id is written to --write-schemas before the first message
    // that needs it (the replay now reads as it sends), and every message decodes through that directory.
    [SharedDataFact]
    public async Task ReplayToKafka_RubinAlerts_SchemasWrittenAndEveryMessageDecodes()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-replay-rubin-" + Guid.NewGuid().ToString("N")[..8]);
        var topic = "rubin-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
                ["replay", SharedData.Path("alert-samples", "lsst-real-v7_4"), "--to-kafka", "--topic", topic, "--bootstrap-servers", _kafka.BootstrapServers, "--write-schemas", dir, "--quiet"],
                timeout: TimeSpan.FromSeconds(120));

            Assert.True(code == 0, $"exit code {code}: {output}");
            var sent = int.Parse(System.Text.RegularExpressions.Regex.Match(stdout, @"published (\d+) of \1 messages").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(sent > 10, stdout);
            Assert.NotEmpty(Directory.GetFiles(dir, "*.avsc"));
            Assert.Contains("Rubin schema ids used: ", output, StringComparison.Ordinal);
            var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new AlertBroker.Avro.DirectorySchemaLookup(dir) });
            using var consumer = new ConsumerBuilder<string?, byte[]>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "g-" + topic, AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
            consumer.Subscribe(topic);
            for (var read = 0; read < sent; read++)
            {
                var result = consumer.Consume(TimeSpan.FromSeconds(30));
                Assert.NotNull(result);
                Assert.Equal(MessageFraming.ConfluentWire, AlertDecoder.DetectFraming(result.Message.Value));
                var alert = decoder.DecodeSingle(result.Message.Value);
                Assert.Equal(Survey.Lsst, alert.Survey);
                Assert.Equal(alert.ObjectId, result.Message.Key);
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    // A message over message.max.bytes was refused by Produce itself (not in a delivery report): the replay ended there
    // as an unexpected error (exit 70). It is counted as failed, the others are sent, exit 1 saying which setting.
    [SharedDataFact]
    public async Task ReplayToKafka_MessageOverMessageMaxBytes_IsCountedAndTheRestSent()
    {
        var topic = "big-" + Guid.NewGuid().ToString("N")[..8];
        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
            ["replay", SharedData.Path("alert-samples", "ztf"), "--to-kafka", "--topic", topic, "--bootstrap-servers", _kafka.BootstrapServers, "--kafka-property", "message.max.bytes=70000", "--quiet"],
            timeout: TimeSpan.FromSeconds(120));

        // The samples are 61–84 kB: the two over 70 kB are refused.
        Assert.True(code == 1, $"exit code {code}: {output}");
        Assert.Contains("published 3 of 5 messages to " + topic, stdout, StringComparison.Ordinal);
        Assert.Contains("2 messages failed (a message of ", output, StringComparison.Ordinal);
        Assert.Contains(" bytes is over the producer's message.max.bytes (70,000;", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_NoBootstrapServers_ExitsTwo()
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["consume", "--topic", "t"]);

        Assert.True(code == 2, $"exit code {code}: {output}");
    }
}
