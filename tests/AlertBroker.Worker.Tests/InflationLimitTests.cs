using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Simulation;
using Microsoft.Extensions.DependencyInjection;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// <c>AlertBroker:Alerts:MaxInflatedBytes</c>: a Kafka message of a few kilobytes that inflates to tens of megabytes is
/// dead-lettered as <c>TooLarge</c> after at most the limit's worth of decompression, beside good (and compressed) alerts.
/// </summary>
public sealed class InflationLimitTests
{
    [Theory]
    [InlineData(null, AlertOptions.DefaultMaxInflatedBytes)]
    [InlineData("1048576", 1_048_576L)]
    [InlineData("0", long.MaxValue)]
    public async Task WorkerDecoder_TakesTheLimitFromTheSettings(string? setting, long expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["AlertBroker:Kafka:Topics:0"] = "in",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:AllowRandom"] = "true",
        };
        if (setting is not null)
        {
            settings["AlertBroker:Alerts:MaxInflatedBytes"] = setting;
        }

        await using var app = WorkerHosts.Build(settings);
        var decoder = app.Services.GetRequiredService<AlertDecoder>();
        Assert.Equal(expected, decoder.Options.Limits.MaxInflatedBytes);
        Assert.Equal(AvroLimits.Default.MaxBlockLength, decoder.Options.Limits.MaxBlockLength);
    }

    [Fact]
    public void Decoder_BombOverTheLimit_IsTooLarge_AndUnderItIsDecodedAsBefore()
    {
        var bomb = SyntheticZtfAlerts.CompressionBomb(40 * 1024 * 1024);
        Assert.True(bomb.Length < 64 * 1024, $"the bomb is {bomb.Length} bytes");
        var limited = new AlertDecoder(new AlertDecoderOptions { Limits = new AlertOptions().ToDecoderLimits() });
        var e = Assert.Throws<AlertFormatException>(() => limited.Decode(bomb, new List<Alert>()));
        Assert.Equal(AlertErrorKind.TooLarge, e.Kind);
        Assert.Contains(AlertOptions.DefaultMaxInflatedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);

        // Without the setting the block limit (256 MiB) lets it inflate, and forty megabytes of zeros are no alert.
        var unlimited = new AlertDecoder();
        Assert.NotEqual(AlertErrorKind.TooLarge, Assert.Throws<AlertFormatException>(() => unlimited.Decode(bomb, new List<Alert>())).Kind);

        // A real-sized alert, compressed, decodes the same under the limit as uncompressed.
        var alert = SyntheticZtfAlerts.LongHistory(3, 2_000);
        var compressed = SyntheticZtfAlerts.Recompress(alert.Message, "zstandard");
        Assert.True(compressed.Length < alert.Message.Length);
        Assert.Equal(AlertJson.ToJson(unlimited.DecodeSingle(alert.Message)), AlertJson.ToJson(limited.DecodeSingle(compressed)));

        // A limit below the alert's size refuses it too: the limit counts inflated bytes, not the message's.
        var tight = new AlertDecoder(new AlertDecoderOptions { Limits = AvroLimits.Default with { MaxInflatedBytes = 10_000 } });
        Assert.Equal(AlertErrorKind.TooLarge, Assert.Throws<AlertFormatException>(() => tight.DecodeSingle(compressed)).Kind);
        Assert.NotNull(tight.DecodeSingle(alert.Message));
    }

    [OnnxFact]
    public async Task ProcessAsync_CompressionBombBesideGoodAlerts_OnlyTheBombIsDeadLettered()
    {
        var store = new InMemoryObjectStateStore();
        var decoder = new AlertDecoder(new AlertDecoderOptions { Limits = new AlertOptions().ToDecoderLimits() });
        var good = SyntheticZtfAlerts.Generate(2, 3, seed: 29);
        var inputs = Inputs(good);
        inputs.Insert(2, new InputMessage(SyntheticZtfAlerts.CompressionBomb(64 * 1024 * 1024), "in", 0, 99, 1_700_000_000_000));
        inputs.Add(new InputMessage(SyntheticZtfAlerts.Recompress(good[0].Message, "snappy"), "in", 0, 100, 1_700_000_000_000));

        var result = await Processor(store, decoder: decoder).ProcessAsync(inputs);

        var dead = Assert.Single(result.DeadLetters);
        Assert.Equal(nameof(AlertErrorKind.TooLarge), dead.Kind);
        Assert.Equal(99, dead.Message.Offset);
        Assert.Equal(good.Count + 1, result.Outputs.Count);
    }
}
