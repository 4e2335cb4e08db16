using FsCheck;
using FsCheck.Fluent;
using ApacheSchema = global::Avro.Schema;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>
/// Random schemas (records, enums, fixed, arrays, maps, unions, logical types) with random datums written by our
/// writer, decoded by ours and by Apache.Avro 1.12.2: every type of the value mapping is exercised, not only the
/// ones the alert schemas use. Floats and doubles come from random bit patterns, so NaN payloads are among them.
/// </summary>
public class RandomSchemaDifferentialTests
{
    private static readonly Config s_config = Config.QuickThrowOnFailure.WithMaxTest(200).WithQuietOnSuccess(true);

    [Fact]
    public void RandomSchemaAndDatum_BothDecoders_AgreeFieldByField()
    {
        FsCheck.Check.One(s_config, Prop.ForAll(Arb.From(RandomSchemas.Cases(RandomSchemas.Schema(3, "0"))), c =>
        {
            if (!TryParseApache(c.Json, out var apacheSchema))
            {
                return true;
            }

            var apache = new global::Avro.Generic.GenericDatumReader<object>(apacheSchema, apacheSchema);
            var ours = new GenericDatumReader(c.Schema);
            foreach (var datum in c.Datums)
            {
                var bytes = TestUtil.Encode(c.Schema, datum);
                var position = 0;
                var value = ours.Read(bytes, ref position);
                var (apacheValue, consumed) = ApacheOracle.ReadDatum(apache, bytes);
                Assert.Equal(bytes.Length, position);
                Assert.Equal(bytes.Length, consumed);
                OracleComparer.AssertSame(value, apacheValue, "datum");
            }

            return true;
        }));
    }

    [Fact]
    public void RandomSchema_CanonicalFormAndFingerprint_EqualApache()
    {
        FsCheck.Check.One(s_config, Prop.ForAll(Arb.From(RandomSchemas.Schema(4, "0")), json =>
        {
            var ours = AvroSchema.Parse(json);
            if (!TryParseApache(json, out var apache))
            {
                return true;
            }

            Assert.Equal(global::Avro.SchemaNormalization.ToParsingForm(apache), ours.ToCanonicalForm());
            Assert.Equal(global::Avro.SchemaNormalization.ParsingFingerprint64(apache), unchecked((long)ours.Fingerprint));
            return true;
        }));
    }

    /// <summary>
    /// Apache.Avro C# refuses a fixed of size 0 ("size must be greater than zero"); the spec asks only for "an integer,
    /// specifying the number of bytes per value", and ours accepts 0 (a zero-byte value). Such schemas are checked to
    /// be refused for that reason alone and are left out of the comparison.
    /// </summary>
    private static bool TryParseApache(string json, out ApacheSchema schema)
    {
        try
        {
            schema = ApacheSchema.Parse(json);
            return true;
        }
        catch (global::Avro.SchemaParseException e) when (json.Contains("\"size\":0", StringComparison.Ordinal))
        {
            Exception? inner = e;
            while (inner is global::Avro.SchemaParseException { InnerException: { } next })
            {
                inner = next;
            }

            Assert.IsType<ArgumentOutOfRangeException>(inner);
            Assert.Contains("size must be greater than zero", inner.Message, StringComparison.Ordinal);
            schema = null!;
            return false;
        }
    }
}
