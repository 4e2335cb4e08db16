using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Worker.Kafka;

namespace AlertBroker.Worker.Tests;

public sealed class SurveyWireFormatTests
{
    [SharedDataFact]
    public void ToWire_RubinContainers_BecomeConfluentWireDecodingToTheSameAlerts()
    {
        var wire = new SurveyWireFormat();
        var plain = new AlertDecoder();
        var viaWire = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = wire });
        var count = 0;
        foreach (var input in AlertArchiveReader.Read([SharedData.Path("alert-samples", "lsst-real-v7_4")]))
        {
            Assert.Null(input.Error);
            var expected = plain.DecodeSingle(input.Payload);
            var messages = wire.ToWire(input.Payload).ToList();
            var message = Assert.Single(messages);
            Assert.Equal(MessageFraming.ConfluentWire, AlertDecoder.DetectFraming(message));
            var actual = viaWire.DecodeSingle(message);
            Assert.Equal(expected.ObjectId, actual.ObjectId);
            Assert.Equal(expected.SourceId, actual.SourceId);
            Assert.Equal(expected.Detections, actual.Detections);
            Assert.Equal(expected.ForcedPhotometry, actual.ForcedPhotometry);
            count++;
        }

        Assert.True(count > 0);

        // The samples' schema is a Spark re-write (no lsst.v7_4 namespace), so its id comes from the fingerprint.
        var id = Assert.Single(wire.Schemas).Key;
        var dir = Path.Combine(Path.GetTempPath(), "ab-wire-" + Guid.NewGuid().ToString("N")[..8]);
        wire.WriteSchemaDirectory(dir);
        var fromDirectory = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new AlertBroker.Avro.DirectorySchemaLookup(dir) });
        var first = wire.ToWire(AlertArchiveReader.Read([SharedData.Path("alert-samples", "lsst-real-v7_4")]).First().Payload).Single();
        Assert.Equal(id, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(first.AsSpan(1)));
        Assert.False(string.IsNullOrEmpty(fromDirectory.DecodeSingle(first).ObjectId));
        Directory.Delete(dir, recursive: true);
    }

    [SharedDataFact]
    public void ToWire_RubinSchemaWithVersionNamespace_UsesRubinRegistryId()
    {
        var wire = new SurveyWireFormat();
        var message = Assert.Single(wire.ToWire(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v7_4", "fakeAlert.avro"))));
        Assert.Equal(new byte[] { 0, 0, 0, 2, 192 }, message.AsSpan(0, 5).ToArray()); // 704 = lsst.v7_4
        // The fake alert's times are Unix seconds: framing is what is tested here, so the value checks are off.
        var alert = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = wire, Validation = AlertValidation.None }).DecodeSingle(message);
        Assert.Equal(Survey.Lsst, alert.Survey);
    }

    [SharedDataFact]
    public void ToWire_ZtfContainer_PassesThroughUnchanged()
    {
        var wire = new SurveyWireFormat();
        foreach (var input in AlertArchiveReader.Read([SharedData.Path("alert-samples", "ztf-real-50")]).Take(3))
        {
            var message = Assert.Single(wire.ToWire(input.Payload));
            Assert.True(input.Payload.Span.SequenceEqual(message));
        }

        Assert.Empty(wire.Schemas);
    }

    // A ZTF container of several alerts (simulate alerts --format avro, a night in one file) was sent as one message of
    // every alert, over the broker's message.max.bytes; ZTF publishes one container per alert. A compressed archive is
    // split the same way, into uncompressed single-alert containers as ZTF's.
    [SharedDataTheory]
    [InlineData("null")]
    [InlineData("zstandard")]
    [InlineData("snappy")]
    public void ToWire_ZtfContainerOfSeveralAlerts_IsSplitIntoOneContainerPerAlert(string codec)
    {
        var (combined, expected) = CombinedZtfContainer(codec);
        Assert.Equal(codec, AlertBroker.Avro.AvroContainerReader.Open(combined).Header.Codec);
        var wire = new SurveyWireFormat();
        var decoder = new AlertDecoder();

        var messages = wire.ToWire(combined).ToList();

        Assert.Equal(expected.Count, messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var reader = AlertBroker.Avro.AvroContainerReader.Open(messages[i]);
            Assert.True(reader.TryReadBlock(out var block));
            Assert.Equal(1, block.Count);
            Assert.False(reader.TryReadBlock(out _));
            Assert.Equal("null", reader.Header.Codec);
            var alert = decoder.DecodeSingle(messages[i]);
            Assert.Equal(expected[i].ObjectId, alert.ObjectId);
            Assert.Equal(expected[i].SourceId, alert.SourceId);
            Assert.Equal(expected[i].Detections, alert.Detections);
        }

        Assert.Empty(wire.Schemas);
    }

    // Cut inside its last record: nothing to split, so it goes as archived (the worker dead-letters it) and nothing throws.
    [SharedDataFact]
    public void ToWire_CorruptContainerOfSeveralAlerts_PassesThroughWhole()
    {
        var (combined, _) = CombinedZtfContainer();
        var corrupt = combined.AsSpan(0, combined.Length - 100).ToArray();

        var message = Assert.Single(new SurveyWireFormat().ToWire(corrupt));

        Assert.True(corrupt.AsSpan().SequenceEqual(message));
    }

    // The real ZTF samples that share the first one's schema, re-encoded into one container (their records as they are).
    private static (byte[] Container, List<Alert> Alerts) CombinedZtfContainer(string codec = "null")
    {
        AlertBroker.Avro.AvroSchema? schema = null;
        var alerts = new List<Alert>();
        var buffer = new MemoryStream();
        AlertBroker.Avro.AvroContainerWriter? writer = null;
        var decoder = new AlertDecoder();
        foreach (var input in AlertArchiveReader.Read([SharedData.Path("alert-samples", "ztf-real-50")]))
        {
            var reader = AlertBroker.Avro.AvroContainerReader.Open(input.Payload);
            schema ??= reader.Header.Schema;
            if (reader.Header.Schema.ToJson() != schema.ToJson())
            {
                continue;
            }

            writer ??= new AlertBroker.Avro.AvroContainerWriter(buffer, schema, codec, leaveOpen: true);
            while (reader.TryReadBlock(out var block))
            {
                Assert.Equal(1, block.Count);
                writer.WriteEncoded(block.Data.Span);
            }

            alerts.Add(decoder.DecodeSingle(input.Payload));
            if (alerts.Count == 8)
            {
                break;
            }
        }

        writer!.Dispose();
        Assert.True(alerts.Count > 2);
        return (buffer.ToArray(), alerts);
    }
}
