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
}
