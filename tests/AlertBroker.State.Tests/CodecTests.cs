using AlertBroker.Alerts;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.State.Tests;

public sealed class CodecTests
{
    [Fact]
    public void EncodeDecode_RandomStates_RoundTrip()
    {
        var obs = Gen.Choose(0, 1_000_000).Select(i => new Observation(i * 31L, 58000 + (i / 1000.0), (Passband)(1 + (i % 3)), (ObservationKind)(i % 3), i * 0.5f, 1 + (i % 7), i % 2 == 0 ? float.NaN : 20f));
        var gen = from o in Gen.ArrayOf(obs)
                  from v in Gen.Choose(1, int.MaxValue)
                  from hidden in Gen.ArrayOf(Gen.Choose(-1000, 1000).Select(i => i / 997f))
                  from model in Gen.Elements("", "m/1", "ztf-gru/2026.11.21/abcdef12", "ünï/1")
                  select new ObjectState
                  {
                      Version = v,
                      UpdatedUnixMs = v * 3L,
                      Observations = o,
                      ModelId = model,
                      ScoredSteps = o.Length,
                      LastStepMjd = o.Length > 0 ? o[^1].Mjd : double.NaN,
                      LastStepSourceId = o.Length > 0 ? o[^1].SourceId : 0,
                      ReferenceMjd = 58000.5,
                      HiddenState = hidden,
                      Probabilities = [.. hidden.AsSpan(0, Math.Min(3, hidden.Length))],
                  };
        Prop.ForAll(gen.ToArbitrary(), state =>
        {
            var bytes = ObjectStateCodec.Encode(state);
            var back = ObjectStateCodec.Decode(bytes);
            return back.Version == state.Version
                && back.Observations.AsSpan().SequenceEqual(state.Observations)
                && back.ModelId == state.ModelId
                && back.HiddenState.AsSpan().SequenceEqual(state.HiddenState)
                && back.Probabilities.AsSpan().SequenceEqual(state.Probabilities)
                && ObjectStateCodec.ReadVersion(bytes) == state.Version;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void EncodeDecode_WithShadowState_RoundTrips_AndARecordWithoutOneHasNone()
    {
        var state = StoreContractTests.StateWith(3, StoreContractTests.Obs(1, 59000), StoreContractTests.Obs(2, 59001)) with
        {
            ModelId = "active/1/abc",
            ScoredSteps = 2,
            HiddenState = [0.1f, -0.2f],
            Probabilities = [0.4f, 0.6f],
        };
        var shadow = new ScoreState
        {
            ModelId = "candidate/2/def|meta=0.1,1,0,0",
            ScoredSteps = 2,
            LastStepMjd = 59001,
            LastStepSourceId = 2,
            ReferenceMjd = 59000,
            HiddenState = [0.3f, 0.4f, 0.5f],
            Probabilities = [0.9f, 0.1f],
        };

        var withShadow = ObjectStateCodec.Decode(ObjectStateCodec.Encode(state with { Shadow = shadow }));
        var without = ObjectStateCodec.Decode(ObjectStateCodec.Encode(state));

        Assert.Equal(shadow.ModelId, withShadow.Shadow!.ModelId);
        Assert.Equal(shadow.HiddenState, withShadow.Shadow.HiddenState);
        Assert.Equal(shadow.Probabilities, withShadow.Shadow.Probabilities);
        Assert.Equal((shadow.ScoredSteps, shadow.LastStepMjd, shadow.LastStepSourceId, shadow.ReferenceMjd), (withShadow.Shadow.ScoredSteps, withShadow.Shadow.LastStepMjd, withShadow.Shadow.LastStepSourceId, withShadow.Shadow.ReferenceMjd));
        Assert.Equal(state.HiddenState, withShadow.HiddenState);
        Assert.Equal(state.ModelId, withShadow.ModelId);
        Assert.Null(without.Shadow);

        // The shadow section is appended: a record with it starts exactly as the same record without it (older readers stop before it).
        var bytes = ObjectStateCodec.Encode(state with { Shadow = shadow });
        var plain = ObjectStateCodec.Encode(state);
        Assert.True(bytes.AsSpan(0, plain.Length).SequenceEqual(plain));
        Assert.Equal(ObjectStateCodec.GetEncodedLength(state with { Shadow = shadow }), bytes.Length);
    }

    [Theory]
    [InlineData(false, "")]
    [InlineData(false, "not a transient candidate: solar-system object ünï 2026 AB")]
    [InlineData(true, "not a transient candidate: real/bogus 0.003 < 0.5")]
    public void EncodeDecode_NewestAlert_RoundTrips_AndARecordWithoutItHasNone(bool withShadow, string withheld)
    {
        var state = StoreContractTests.StateWith(3, StoreContractTests.Obs(1, 59000), StoreContractTests.Obs(2, 59001)) with
        {
            ModelId = "active/1/abc",
            Probabilities = [0.4f, 0.6f],
            Shadow = withShadow ? new ScoreState { ModelId = "candidate/2/def", Probabilities = [0.9f, 0.1f] } : null,
        };

        var recorded = state with { NewestAlertMjd = 59001.25, NewestAlertWithheld = withheld };
        var bytes = ObjectStateCodec.Encode(recorded);
        var back = ObjectStateCodec.Decode(bytes);
        var without = ObjectStateCodec.Decode(ObjectStateCodec.Encode(state));

        Assert.Equal(59001.25, back.NewestAlertMjd);
        Assert.Equal(withheld, back.NewestAlertWithheld);
        Assert.Equal(withShadow, back.Shadow is not null);
        Assert.Equal(state.Probabilities, back.Probabilities);
        Assert.Equal(ObjectStateCodec.GetEncodedLength(recorded), bytes.Length);
        Assert.True(double.IsNaN(without.NewestAlertMjd));
        Assert.Empty(without.NewestAlertWithheld);

        // Appended after everything else: the record starts exactly as the same record without it (older readers stop
        // before it), and a cut inside the section is refused, not read as a shorter reason.
        var plain = ObjectStateCodec.Encode(state);
        Assert.True(bytes.AsSpan(0, plain.Length).SequenceEqual(plain));
        for (var n = plain.Length + 4; n < bytes.Length; n++)
        {
            var cut = bytes.AsSpan(0, n).ToArray();
            Assert.Throws<InvalidDataException>(() => ObjectStateCodec.Decode(cut));
        }
    }

    [Fact]
    public void Decode_TruncatedOrGarbage_ThrowsInvalidData()
    {
        var state = StoreContractTests.StateWith(3, StoreContractTests.Obs(1, 59000), StoreContractTests.Obs(2, 59001));
        var bytes = ObjectStateCodec.Encode(state);
        for (var n = 0; n < bytes.Length; n++)
        {
            var cut = bytes.AsSpan(0, n).ToArray();
            Assert.Throws<InvalidDataException>(() => ObjectStateCodec.Decode(cut));
        }

        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var mutated = (byte[])bytes.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                ObjectStateCodec.Decode(mutated);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public void Merge_OutOfOrderPoints_KeepsTimeOrder()
    {
        var existing = new[] { StoreContractTests.Obs(1, 59000), StoreContractTests.Obs(3, 59003) };
        var late = StoreContractTests.Obs(2, 59001);
        var alert = new Alert
        {
            Survey = Survey.Ztf,
            SchemaVersion = "t",
            ObjectId = "x",
            SourceId = 2,
            Mjd = 59001,
            Band = Passband.ZtfG,
            Candidate = late,
            Detections = [late, existing[0]],
        };
        var merged = LightCurveMerge.Merge(existing, [alert], out var added);
        Assert.Equal(1, added);
        Assert.Equal([1L, 2L, 3L], [merged[0].SourceId, merged[1].SourceId, merged[2].SourceId]);
        Assert.Same(merged, LightCurveMerge.Merge(merged, [alert], out var none));
        Assert.Equal(0, none);
    }
}
