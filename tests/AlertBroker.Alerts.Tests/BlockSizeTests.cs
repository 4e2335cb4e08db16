using System.Buffers;
using AlertBroker.Avro;

namespace AlertBroker.Alerts.Tests;

/// <summary>
/// A real ZTF alert whose prv_candidates array is re-encoded as one block with a negative count and a byte size (the
/// form Avro writers use so that readers can skip). The fast path reads the history, so it must hold the block to
/// its declared size, as the generic reader does and as skipping assumes.
/// </summary>
public class BlockSizeTests
{
    [SharedDataFact]
    public void Decode_HistoryBlockWithTrueByteSize_SameAlertAsPositiveCount()
    {
        var (original, reencoded) = Reencode(sizeDelta: 0);
        var decoder = new AlertDecoder();
        var expected = decoder.DecodeSingle(original);
        var actual = decoder.DecodeSingle(reencoded);
        Assert.True(expected.Detections.Length + expected.UpperLimits.Length > 5, "the sample should carry a history");
        Assert.Equal(expected.Detections, actual.Detections);
        Assert.Equal(expected.UpperLimits, actual.UpperLimits);
        Assert.Equal(expected.Candidate, actual.Candidate);
    }

    [SharedDataFact]
    public void Decode_HistoryBlockByteSizeDisagrees_CorruptAvro()
    {
        foreach (var sizeDelta in new[] { 1, -1 })
        {
            var (_, reencoded) = Reencode(sizeDelta);
            var ex = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(reencoded));
            Assert.Equal(AlertErrorKind.CorruptAvro, ex.Kind);
            Assert.Contains("does not match", ex.Message, StringComparison.Ordinal);
        }
    }

    private static (byte[] Original, byte[] Reencoded) Reencode(int sizeDelta)
    {
        // The real ZTF alert with the longest history.
        var decoder = new AlertDecoder();
        var file = SharedData.Files("alert-samples/ztf-real-50").Select(File.ReadAllBytes)
            .MaxBy(bytes => decoder.DecodeSingle(bytes) is var a ? a.Detections.Length + a.UpperLimits.Length : 0)!;
        var container = AvroContainerReader.Open(file, new AvroSchemaCache());
        Assert.True(container.TryReadBlock(out var block));
        var datum = block.Data.ToArray();
        var schema = (RecordSchema)container.Header.Schema;
        var r = new AvroReader(datum);
        foreach (var field in schema.Fields.TakeWhile(f => f.Name != "prv_candidates"))
        {
            r.Skip(field.Schema);
        }

        var union = (UnionSchema)schema.GetField("prv_candidates")!.Schema;
        var items = ((ArraySchema)union.Branches[r.ReadUnionIndex(union.Branches.Count)]).Items;
        var headerStart = r.Position;
        var count = r.ReadBlockHeader(out var declared);
        Assert.Equal(-1, declared);
        var itemsStart = r.Position;
        for (long i = 0; i < count; i++)
        {
            r.Skip(items);
        }

        var size = r.Position - itemsStart;
        byte[] newDatum = [.. datum.AsSpan(0, headerStart), .. Varint(-count), .. Varint(size + sizeDelta), .. datum.AsSpan(itemsStart)];
        byte[] reframed =
        [
            .. file.AsSpan(0, container.Header.Length), .. Varint(1), .. Varint(newDatum.Length), .. newDatum, .. container.Header.SyncMarker.Span,
        ];
        return (file, reframed);
    }

    private static byte[] Varint(long value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new AvroWriter(buffer).WriteLong(value);
        return buffer.WrittenSpan.ToArray();
    }
}
