using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.Avro.Tests;

public class PropertyTests
{
    private static readonly Config s_config = Config.QuickThrowOnFailure.WithMaxTest(150).WithQuietOnSuccess(true);

    private static void Check<T>(Gen<T> gen, Func<T, bool> property) =>
        FsCheck.Check.One(s_config, Prop.ForAll(Arb.From(gen), property));

    [Fact]
    public void WriteThenRead_RandomSchemaAndDatum_RoundTrips()
    {
        Check(RandomSchemas.Cases(RandomSchemas.Schema(3, "0")), c =>
        {
            var reader = new GenericDatumReader(c.Schema);
            foreach (var datum in c.Datums)
            {
                var bytes = TestUtil.Encode(c.Schema, datum);
                var position = 0;
                var read = reader.Read(bytes, ref position);
                if (position != bytes.Length || !GenericEquality.DeepEquals(datum, read))
                {
                    return false;
                }

                var skipper = new AvroReader(bytes);
                skipper.Skip(c.Schema);
                if (!skipper.IsAtEnd)
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Fact]
    public void CanonicalForm_RandomSchema_IsIdempotentAndSurvivesToJson()
    {
        Check(RandomSchemas.Schema(4, "0"), json =>
        {
            var schema = AvroSchema.Parse(json);
            var canonical = schema.ToCanonicalForm();
            var again = AvroSchema.Parse(canonical);
            var viaJson = AvroSchema.Parse(schema.ToJson());
            return again.ToCanonicalForm() == canonical
                && again.Fingerprint == schema.Fingerprint
                && viaJson.ToCanonicalForm() == canonical;
        });
    }

    [Fact]
    public void Read_ReaderDropsRandomFields_EqualsProjection()
    {
        var gen =
            from c in RandomSchemas.Cases(RandomSchemas.RecordSchema(3, "0"))
            from keep in Gen.CollectToArray(Enumerable.Range(0, ((RecordSchema)c.Schema).Fields.Count).Select(_ => Gen.Elements(true, false)))
            select (Case: c, Keep: keep);
        Check(gen, t =>
        {
            var c = t.Case;
            var keep = t.Keep;
            var node = JsonNode.Parse(c.Schema.ToJson())!;
            var fields = node["fields"]!.AsArray();
            for (var i = fields.Count - 1; i >= 0; i--)
            {
                if (!keep[i])
                {
                    fields.RemoveAt(i);
                }
            }

            var readerSchema = (RecordSchema)AvroSchema.Parse(node.ToJsonString());
            var datumReader = new GenericDatumReader(c.Schema, readerSchema);
            foreach (var datum in c.Datums)
            {
                var original = (GenericRecord)datum!;
                var position = 0;
                var bytes = TestUtil.Encode(c.Schema, original);
                var read = (GenericRecord)datumReader.Read(bytes, ref position)!;
                if (position != bytes.Length || read.Schema.Fields.Count != keep.Count(k => k))
                {
                    return false;
                }

                foreach (var field in readerSchema.Fields)
                {
                    if (!GenericEquality.DeepEquals(original[field.Name], read[field.Name]))
                    {
                        return false;
                    }
                }
            }

            return true;
        });
    }

    [Fact]
    public void Read_ReaderAddsFieldsWithDefaults_YieldsDefaults()
    {
        var gen =
            from c in RandomSchemas.Cases(RandomSchemas.RecordSchema(2, "0"))
            from number in Gen.Choose(int.MinValue, int.MaxValue)
            from text in Gen.Elements("", "x", "héllo")
            select (c, number, text);
        Check(gen, t =>
        {
            var (c, number, text) = t;
            var node = JsonNode.Parse(c.Schema.ToJson())!;
            var fields = node["fields"]!.AsArray();
            fields.Add(JsonNode.Parse($$"""{"name":"extraInt","type":"int","default":{{number}}}"""));
            fields.Insert(0, JsonNode.Parse($$"""{"name":"extraText","type":["string","null"],"default":{{System.Text.Json.JsonSerializer.Serialize(text)}}}"""));
            fields.Add(JsonNode.Parse("""{"name":"extraList","type":{"type":"array","items":"long"},"default":[1,2]}"""));
            var readerSchema = AvroSchema.Parse(node.ToJsonString());
            var datumReader = new GenericDatumReader(c.Schema, readerSchema);
            foreach (var datum in c.Datums)
            {
                var bytes = TestUtil.Encode(c.Schema, datum);
                var position = 0;
                var read = (GenericRecord)datumReader.Read(bytes, ref position)!;
                if (!Equals(read["extraInt"], number) || !Equals(read["extraText"], text)
                    || !GenericEquality.DeepEquals(read["extraList"], new List<object?> { 1L, 2L }))
                {
                    return false;
                }

                foreach (var field in ((RecordSchema)c.Schema).Fields)
                {
                    if (!GenericEquality.DeepEquals(((GenericRecord)datum!)[field.Name], read[field.Name]))
                    {
                        return false;
                    }
                }
            }

            return true;
        });
    }

    [Fact]
    public void Read_IntAndLongPromotions_PreserveNumericValue()
    {
        var intReaders = new[] { AvroSchema.Long, AvroSchema.Float, AvroSchema.Double }.Select(r => new GenericDatumReader(AvroSchema.Int, r)).ToArray();
        var longReaders = new[] { AvroSchema.Float, AvroSchema.Double }.Select(r => new GenericDatumReader(AvroSchema.Long, r)).ToArray();
        var floatToDouble = new GenericDatumReader(AvroSchema.Float, AvroSchema.Double);
        Check(RandomSchemas.Int().SelectMany(i => RandomSchemas.Long(long.MinValue, long.MaxValue).Select(l => (i, l))), t =>
        {
            var (i, l) = t;
            var intBytes = TestUtil.Encode(AvroSchema.Int, i);
            var longBytes = TestUtil.Encode(AvroSchema.Long, l);
            var floatBytes = TestUtil.Encode(AvroSchema.Float, BitConverter.Int32BitsToSingle(i));
            return Equals(intReaders[0].Read(intBytes), (long)i)
                && Equals(intReaders[1].Read(intBytes), (float)i)
                && Equals(intReaders[2].Read(intBytes), (double)i)
                && Equals(longReaders[0].Read(longBytes), (float)l)
                && Equals(longReaders[1].Read(longBytes), (double)l)
                && ((double)floatToDouble.Read(floatBytes)!).Equals((double)BitConverter.Int32BitsToSingle(i));
        });
    }

    [Fact]
    public void Read_RandomSchemaWithRandomBytes_OnlyAvroExceptions()
    {
        var gen =
            from json in RandomSchemas.Schema(3, "0")
            from length in Gen.Choose(0, 64)
            from bytes in Gen.CollectToArray(Enumerable.Range(0, length).Select(_ => Gen.Choose(0, 255)))
            select (Json: json, Bytes: bytes.Select(b => (byte)b).ToArray());
        Check(gen, t =>
        {
            var schema = AvroSchema.Parse(t.Json);
            try
            {
                var position = 0;
                new GenericDatumReader(schema).Read(t.Bytes, ref position);
            }
            catch (AvroException)
            {
            }

            try
            {
                new AvroReader(t.Bytes).Skip(schema);
            }
            catch (AvroException)
            {
            }

            return true;
        });
    }
}
