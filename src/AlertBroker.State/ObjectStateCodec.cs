using System.Buffers.Binary;
using System.Text;
using AlertBroker.Alerts;

namespace AlertBroker.State;

/// <summary>
/// The compact binary record stored per object (little-endian):
/// <c>version i64 | magic "ABS1" | updated i64 | n i32 | n × (sourceId i64, mjd f64, band u8, kind u8, flux f32, fluxErr f32, limMag f32)
/// | modelId (u16 length + UTF-8) | scoredSteps i32 | lastStepMjd f64 | lastStepSourceId i64 | referenceMjd f64
/// | hidden (i32 count + f32s) | probabilities (i32 count + f32s)</c>, optionally followed by the shadow model's state:
/// <c>magic "SHD1" | modelId | scoredSteps | lastStepMjd | lastStepSourceId | referenceMjd | hidden | probabilities</c>
/// (the same layout as the active model's fields), then optionally by the newest alert's publication:
/// <c>magic "CND1" | newestAlertMjd f64 | withheld reason (u16 length + UTF-8, empty when published with probabilities)</c>.
/// Readers ignore trailing sections they do not know (a reader before the shadow section reads up to the probabilities,
/// one before the publication section up to the shadow); a record without a section has no shadow state, or an unknown
/// newest alert.
/// The version comes first so the Redis check-and-set script compares the first 8 bytes without parsing the rest.
/// </summary>
public static class ObjectStateCodec
{
    public const int ObservationSize = 30;
    private const uint Magic = 0x31534241; // "ABS1"
    private const uint ShadowMagic = 0x31444853; // "SHD1"
    private const uint NewestAlertMagic = 0x31444E43; // "CND1"
    private const int HeaderSize = 8 + 4 + 8 + 4;

    /// <summary>The encoded length of a state.</summary>
    public static int GetEncodedLength(ObjectState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return HeaderSize + (state.Observations.Length * ObservationSize)
            + ScoreLength(state.ModelId, state.HiddenState, state.Probabilities)
            + (state.Shadow is { } shadow ? 4 + ScoreLength(shadow.ModelId, shadow.HiddenState, shadow.Probabilities) : 0)
            + (double.IsNaN(state.NewestAlertMjd) ? 0 : 4 + 8 + 2 + Encoding.UTF8.GetByteCount(state.NewestAlertWithheld));
    }

    private static int ScoreLength(string modelId, float[] hidden, float[] probabilities) =>
        2 + Encoding.UTF8.GetByteCount(modelId) + 4 + 8 + 8 + 8 + 4 + (hidden.Length * 4) + 4 + (probabilities.Length * 4);

    public static byte[] Encode(ObjectState state)
    {
        var bytes = new byte[GetEncodedLength(state)];
        Encode(state, bytes);
        return bytes;
    }

    /// <summary>Writes the record into <paramref name="destination"/>, which must hold <see cref="GetEncodedLength"/> bytes.</summary>
    public static void Encode(ObjectState state, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(state);
        var s = destination;
        BinaryPrimitives.WriteInt64LittleEndian(s, state.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], Magic);
        BinaryPrimitives.WriteInt64LittleEndian(s[12..], state.UpdatedUnixMs);
        BinaryPrimitives.WriteInt32LittleEndian(s[20..], state.Observations.Length);
        var p = HeaderSize;
        foreach (ref readonly var o in state.Observations.AsSpan())
        {
            BinaryPrimitives.WriteInt64LittleEndian(s[p..], o.SourceId);
            BinaryPrimitives.WriteDoubleLittleEndian(s[(p + 8)..], o.Mjd);
            s[p + 16] = (byte)o.Band;
            s[p + 17] = (byte)o.Kind;
            BinaryPrimitives.WriteSingleLittleEndian(s[(p + 18)..], o.FluxMicroJy);
            BinaryPrimitives.WriteSingleLittleEndian(s[(p + 22)..], o.FluxErrMicroJy);
            BinaryPrimitives.WriteSingleLittleEndian(s[(p + 26)..], o.LimitingMag);
            p += ObservationSize;
        }

        p = WriteScore(s, p, state.ModelId, state.ScoredSteps, state.LastStepMjd, state.LastStepSourceId, state.ReferenceMjd, state.HiddenState, state.Probabilities);
        if (state.Shadow is { } shadow)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s[p..], ShadowMagic);
            p = WriteScore(s, p + 4, shadow.ModelId, shadow.ScoredSteps, shadow.LastStepMjd, shadow.LastStepSourceId, shadow.ReferenceMjd, shadow.HiddenState, shadow.Probabilities);
        }

        if (!double.IsNaN(state.NewestAlertMjd))
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s[p..], NewestAlertMagic);
            BinaryPrimitives.WriteDoubleLittleEndian(s[(p + 4)..], state.NewestAlertMjd);
            var reasonLength = Encoding.UTF8.GetBytes(state.NewestAlertWithheld, s[(p + 14)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(s[(p + 12)..], checked((ushort)reasonLength));
        }
    }

    private static int WriteScore(Span<byte> s, int p, string modelId, int scoredSteps, double lastStepMjd, long lastStepSourceId, double referenceMjd, float[] hidden, float[] probabilities)
    {
        var modelLength = Encoding.UTF8.GetBytes(modelId, s[(p + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(s[p..], checked((ushort)modelLength));
        p += 2 + modelLength;
        BinaryPrimitives.WriteInt32LittleEndian(s[p..], scoredSteps);
        BinaryPrimitives.WriteDoubleLittleEndian(s[(p + 4)..], lastStepMjd);
        BinaryPrimitives.WriteInt64LittleEndian(s[(p + 12)..], lastStepSourceId);
        BinaryPrimitives.WriteDoubleLittleEndian(s[(p + 20)..], referenceMjd);
        p += 28;
        p = WriteFloats(s, p, hidden);
        return WriteFloats(s, p, probabilities);
    }

    /// <summary>Reads a record; a record this codec did not write raises <see cref="InvalidDataException"/>.</summary>
    public static ObjectState Decode(ReadOnlySpan<byte> s)
    {
        if (s.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(s[8..]) != Magic)
        {
            throw new InvalidDataException("not an AlertBroker object-state record (bad length or magic)");
        }

        var version = BinaryPrimitives.ReadInt64LittleEndian(s);
        var updated = BinaryPrimitives.ReadInt64LittleEndian(s[12..]);
        var n = BinaryPrimitives.ReadInt32LittleEndian(s[20..]);
        var p = HeaderSize;
        if (n < 0 || (long)n * ObservationSize > s.Length - p)
        {
            throw new InvalidDataException("object-state record: observation count out of range");
        }

        var observations = new Observation[n];
        for (var i = 0; i < n; i++)
        {
            observations[i] = new Observation(
                BinaryPrimitives.ReadInt64LittleEndian(s[p..]),
                BinaryPrimitives.ReadDoubleLittleEndian(s[(p + 8)..]),
                (Passband)s[p + 16],
                (ObservationKind)s[p + 17],
                BinaryPrimitives.ReadSingleLittleEndian(s[(p + 18)..]),
                BinaryPrimitives.ReadSingleLittleEndian(s[(p + 22)..]),
                BinaryPrimitives.ReadSingleLittleEndian(s[(p + 26)..]));
            p += ObservationSize;
        }

        var score = ReadScore(s, ref p);
        ScoreState? shadow = null;
        if (s.Length - p >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(s[p..]) == ShadowMagic)
        {
            p += 4;
            shadow = ReadScore(s, ref p);
        }

        var newestMjd = double.NaN;
        var withheld = string.Empty;
        if (s.Length - p >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(s[p..]) == NewestAlertMagic)
        {
            Need(s, p + 4, 10);
            newestMjd = BinaryPrimitives.ReadDoubleLittleEndian(s[(p + 4)..]);
            var reasonLength = BinaryPrimitives.ReadUInt16LittleEndian(s[(p + 12)..]);
            Need(s, p + 14, reasonLength);
            withheld = Encoding.UTF8.GetString(s.Slice(p + 14, reasonLength));
        }

        return new ObjectState
        {
            Version = version,
            UpdatedUnixMs = updated,
            Observations = observations,
            ModelId = score.ModelId,
            ScoredSteps = score.ScoredSteps,
            LastStepMjd = score.LastStepMjd,
            LastStepSourceId = score.LastStepSourceId,
            ReferenceMjd = score.ReferenceMjd,
            HiddenState = score.HiddenState,
            Probabilities = score.Probabilities,
            Shadow = shadow,
            NewestAlertMjd = newestMjd,
            NewestAlertWithheld = withheld,
        };
    }

    private static ScoreState ReadScore(ReadOnlySpan<byte> s, ref int p)
    {
        Need(s, p, 2);
        var modelLength = BinaryPrimitives.ReadUInt16LittleEndian(s[p..]);
        Need(s, p + 2, modelLength + 28);
        var modelId = Encoding.UTF8.GetString(s.Slice(p + 2, modelLength));
        p += 2 + modelLength;
        var scored = BinaryPrimitives.ReadInt32LittleEndian(s[p..]);
        var lastMjd = BinaryPrimitives.ReadDoubleLittleEndian(s[(p + 4)..]);
        var lastSource = BinaryPrimitives.ReadInt64LittleEndian(s[(p + 12)..]);
        var reference = BinaryPrimitives.ReadDoubleLittleEndian(s[(p + 20)..]);
        p += 28;
        var hidden = ReadFloats(s, ref p);
        var probabilities = ReadFloats(s, ref p);
        return new ScoreState
        {
            ModelId = modelId,
            ScoredSteps = scored,
            LastStepMjd = lastMjd,
            LastStepSourceId = lastSource,
            ReferenceMjd = reference,
            HiddenState = hidden,
            Probabilities = probabilities,
        };
    }

    /// <summary>The version in an encoded record's first 8 bytes.</summary>
    public static long ReadVersion(ReadOnlySpan<byte> record) =>
        record.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(record) : 0;

    private static int WriteFloats(Span<byte> s, int p, float[] values)
    {
        BinaryPrimitives.WriteInt32LittleEndian(s[p..], values.Length);
        p += 4;
        foreach (var v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(s[p..], v);
            p += 4;
        }

        return p;
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> s, ref int p)
    {
        Need(s, p, 4);
        var n = BinaryPrimitives.ReadInt32LittleEndian(s[p..]);
        p += 4;
        if (n < 0 || (long)n * 4 > s.Length - p)
        {
            throw new InvalidDataException("object-state record: float count out of range");
        }

        var values = new float[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(s[(p + (i * 4))..]);
        }

        p += n * 4;
        return values;
    }

    private static void Need(ReadOnlySpan<byte> s, int p, int count)
    {
        if (p + count > s.Length)
        {
            throw new InvalidDataException("object-state record is truncated");
        }
    }
}
