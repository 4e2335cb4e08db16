using System.Text;
using Xunit.Abstractions;
using ApacheSchema = global::Avro.Schema;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>
/// Mutated real alerts decoded by ours and by Apache.Avro 1.12.2. For every case the two agree field by field, or
/// both refuse; ours refuses only with an <see cref="AvroException"/> (any other exception type fails the test) and
/// without a large allocation. Where they disagree, the case must fall into one of the reviewed categories below,
/// each of which says who is right per the Avro specification; any other disagreement fails the test.
/// </summary>
public class MutationDifferentialTests(ITestOutputHelper output)
{
    [SharedDataFact]
    public void MutatedDatums_BothDecoders_AgreeOrBothRefuse()
    {
        var bases = MutationCorpus.LoadBases();
        var tally = new Tally();
        var seed = 1000;
        foreach (var alert in bases)
        {
            var ours = new GenericDatumReader(alert.Header.Schema);
            var apacheSchema = ApacheSchema.Parse(Encoding.UTF8.GetString(alert.Header.SchemaJson.Span));
            var apache = new global::Avro.Generic.GenericDatumReader<object>(apacheSchema, apacheSchema);
            Outcome Ours(byte[] data) => Outcome.Ours(
                () =>
                {
                    var position = 0;
                    var value = ours.Read(data, ref position);
                    return (value, position);
                },
                data.Length);
            Outcome Apache(byte[] data) => Outcome.Apache(() => ApacheOracle.ReadDatum(apache, data));
            bool BothAcceptAndAgree(byte[] data) => Tally.Agree(Ours(data), Apache(data));

            foreach (var mutation in MutationCorpus.DatumMutations(alert, seed++, bitFlips: 120, truncations: 20, targeted: 120))
            {
                tally.Judge(alert, mutation, Ours(mutation.Data), Apache(mutation.Data), BothAcceptAndAgree);
            }
        }

        tally.Report(output);
    }

    [SharedDataFact]
    public void MutatedContainers_BothContainerReaders_AgreeOrBothRefuse()
    {
        var bases = MutationCorpus.LoadBases();
        var tally = new Tally();
        var cache = new AvroSchemaCache(64);
        var seed = 5000;
        foreach (var alert in bases)
        {
            Outcome Ours(byte[] data)
            {
                var memory = Outcome.Ours(
                    () =>
                    {
                        var datums = AvroContainerReader.Open(data, cache).ReadAll().ToList();
                        return (datums, data.Length);
                    },
                    data.Length);

                // The stream reader must reach the same verdict and values as the in-memory one.
                var stream = Outcome.Ours(
                    () =>
                    {
                        using var reader = new AvroContainerStreamReader(new MemoryStream(data), cache);
                        var datumReader = new GenericDatumReader(reader.Header.Schema);
                        var datums = new List<object?>();
                        while (reader.TryReadBlock(out var block))
                        {
                            var position = 0;
                            for (long i = 0; i < block.Count; i++)
                            {
                                datums.Add(datumReader.Read(block.Data.ToArray(), ref position));
                            }

                            if (position != block.Data.Length)
                            {
                                throw new AvroFormatException("bytes left in the block", block.Offset + position);
                            }
                        }

                        return (datums, data.Length);
                    },
                    data.Length);
                Assert.True(memory.Accepted == stream.Accepted, $"in-memory reader {memory.Describe()}, stream reader {stream.Describe()}");
                if (memory.Accepted)
                {
                    Assert.True(GenericEquality.DeepEquals(memory.Value, stream.Value), "the stream reader's datums differ from the in-memory reader's");
                }

                return memory;
            }

            Outcome Apache(byte[] data) => Outcome.Apache(() => (ApacheOracle.ReadContainer(data).ToArray(), data.Length));
            bool BothAcceptAndAgree(byte[] data) => Tally.Agree(Ours(data), Apache(data));

            foreach (var mutation in MutationCorpus.ContainerMutations(alert, seed++))
            {
                tally.Judge(alert, mutation, Ours(mutation.Data), Apache(mutation.Data), BothAcceptAndAgree);
            }
        }

        tally.Report(output);
    }

    /// <summary>What one decoder did with one input.</summary>
    internal sealed record Outcome(bool Accepted, object? Value, long Consumed, Exception? Error, bool Guarded)
    {
        public static Outcome Ours(Func<(object? Value, long Consumed)> decode, int inputLength)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var (value, consumed) = decode();
                return new Outcome(true, value, consumed, null, false);
            }
            catch (AvroException e)
            {
                return new Outcome(false, null, 0, e, false);
            }
            finally
            {
                // Never a huge allocation: a generic decode costs a bounded multiple of the input.
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < (16L * inputLength) + (1 << 20), $"ours allocated {allocated} bytes for a {inputLength}-byte input");
            }
        }

        public static Outcome Apache(Func<(object? Value, long Consumed)> decode)
        {
            var guards = OracleGuardException.Count;
            try
            {
                var (value, consumed) = decode();
                return new Outcome(true, value, consumed, null, false);
            }
            catch (Exception e)
            {
                return new Outcome(false, null, 0, e, OracleGuardException.Count > guards);
            }
        }

        public string Describe() => Accepted ? $"accepted ({Consumed} bytes)" : $"refused: {Root(Error!).GetType().Name}: {Excerpt(Root(Error!).Message)}";

        private static Exception Root(Exception e) => e is global::Avro.AvroRuntimeException { InnerException: { } inner } ? Root(inner) : e;

        private static string Excerpt(string s) => s.Length <= 160 ? s : s[..160] + "…";
    }

    /// <summary>Counts agreements and disagreements; unexplained disagreements fail the test.</summary>
    internal sealed class Tally
    {
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly List<string> _unexplained = [];
        private int _cases;

        public static bool Agree(Outcome ours, Outcome apache) =>
            ours.Accepted && apache.Accepted && ours.Consumed == apache.Consumed && OracleComparer.Differences(ours.Value, apache.Value, "datum").Count == 0;

        public void Judge(BaseAlert alert, Mutation mutation, Outcome ours, Outcome apache, Func<byte[], bool> bothAcceptAndAgree)
        {
            _cases++;
            string verdict;
            if (ours.Accepted && apache.Accepted)
            {
                var differences = OracleComparer.Differences(ours.Value, apache.Value, "datum");
                if (ours.Consumed != apache.Consumed)
                {
                    differences.Add($"consumed {ours.Consumed} bytes in ours, {apache.Consumed} in Apache");
                }

                verdict = differences.Count == 0
                    ? "both accept, same values"
                    : Disagreements.Explain(alert, ours, apache, mutation, bothAcceptAndAgree)
                        ?? Unexplained(alert, mutation, "both accept, values differ: " + string.Join("; ", differences.Take(5)));
            }
            else if (!ours.Accepted && !apache.Accepted)
            {
                verdict = apache.Guarded ? "both refuse (Apache stopped by the allocation guard)" : "both refuse";
            }
            else
            {
                verdict = Disagreements.Explain(alert, ours, apache, mutation, bothAcceptAndAgree)
                    ?? Unexplained(alert, mutation, $"ours {ours.Describe()}; Apache {apache.Describe()}");
            }

            _counts[verdict] = _counts.GetValueOrDefault(verdict) + 1;
        }

        public void Report(ITestOutputHelper output)
        {
            foreach (var (verdict, count) in _counts.OrderByDescending(p => p.Value))
            {
                output.WriteLine($"{count,6}  {verdict}");
            }

            output.WriteLine($"{_cases,6}  cases");
            foreach (var u in _unexplained)
            {
                output.WriteLine("U " + u);
            }

            Assert.True(_unexplained.Count == 0, $"{_unexplained.Count} unexplained disagreements of {_cases} cases:\n" + string.Join("\n", _unexplained.Take(25)));
            Assert.True(_counts.GetValueOrDefault("both accept, same values") > _cases / 10, "too few cases decoded: the corpus does not reach the data");
            Assert.True(_counts.Where(p => p.Key.StartsWith("both refuse", StringComparison.Ordinal)).Sum(p => p.Value) > _cases / 10, "too few refusals: the mutations do not bite");
        }

        private string Unexplained(BaseAlert alert, Mutation mutation, string what)
        {
            _unexplained.Add($"{alert.Name}: {mutation.Description}: {what}");
            return "UNEXPLAINED";
        }
    }
}
