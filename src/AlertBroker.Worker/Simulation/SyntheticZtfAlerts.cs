using System.Buffers;
using AlertBroker.Avro;

namespace AlertBroker.Worker.Simulation;

/// <summary>
/// A small deterministic stream of ZTF-format alerts (Avro container files in the <c>ztf</c> namespace, as ZTF's Kafka
/// messages are) for tests, the demo and benchmarks while the survey simulator is not yet wired in: each object gets a
/// rising and fading light curve in g and r, one alert per detection, each alert carrying the previous detections and
/// non-detections as <c>prv_candidates</c>. Alerts of different objects are interleaved in time order, as in a night.
/// </summary>
public sealed class SyntheticZtfAlerts
{
    private const string SchemaJson = """
        {"type":"record","name":"alert","namespace":"ztf","version":"3.3","fields":[
          {"name":"schemavsn","type":"string"},
          {"name":"publisher","type":"string"},
          {"name":"objectId","type":"string"},
          {"name":"candid","type":"long"},
          {"name":"candidate","type":{"type":"record","name":"candidate","fields":[
            {"name":"jd","type":"double"},{"name":"fid","type":"int"},{"name":"pid","type":"long"},
            {"name":"diffmaglim","type":["null","float"],"default":null},{"name":"programid","type":"int"},
            {"name":"candid","type":"long"},{"name":"isdiffpos","type":"string"},
            {"name":"ra","type":"double"},{"name":"dec","type":"double"},
            {"name":"magpsf","type":"float"},{"name":"sigmapsf","type":"float"},
            {"name":"rb","type":["null","float"],"default":null},{"name":"ndethist","type":"int"}]}},
          {"name":"prv_candidates","type":["null",{"type":"array","items":{"type":"record","name":"prv_candidate","fields":[
            {"name":"jd","type":"double"},{"name":"fid","type":"int"},{"name":"pid","type":"long"},
            {"name":"diffmaglim","type":["null","float"],"default":null},{"name":"programid","type":"int"},
            {"name":"candid","type":["null","long"],"default":null},{"name":"isdiffpos","type":["null","string"],"default":null},
            {"name":"magpsf","type":["null","float"],"default":null},{"name":"sigmapsf","type":["null","float"],"default":null}]}}],"default":null}]}
        """;

    private static readonly Lazy<AvroSchema> s_schema = new(() => AvroSchema.Parse(SchemaJson));

    /// <summary>The writer schema of the generated alerts.</summary>
    public static AvroSchema Schema => s_schema.Value;

    /// <summary>One generated alert: its object, triggering candid, time, and the container-file bytes.</summary>
    public sealed record SyntheticAlert(string ObjectId, long Candid, double Mjd, byte[] Message);

    /// <summary>
    /// Generates <paramref name="objects"/> objects with <paramref name="alertsPerObject"/> alerts each (at least 1), in time
    /// order. <paramref name="objectOffset"/> shifts the object numbering so separate calls give disjoint objects.
    /// </summary>
    /// <remarks><paramref name="cancellationToken"/> is seen every 1,024 alerts (500,000 take longer than a command's stop grace period).</remarks>
    public static List<SyntheticAlert> Generate(int objects, int alertsPerObject, int seed = 1, int objectOffset = 0, int maxHistory = 30, CancellationToken cancellationToken = default)
    {
        var random = new Random(seed);
        var pending = new List<(double Jd, int Object, int Index)>();
        var curves = new Curve[objects];
        for (var o = 0; o < objects; o++)
        {
            if ((o & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var n = Math.Max(1, alertsPerObject);
            var start = 2460000.5 + (random.NextDouble() * 2);
            var points = new Point[n + (n / 2)];
            var jd = start;
            var peakMag = 17.5 + (random.NextDouble() * 2.5);
            var rise = 3 + (random.NextDouble() * 10);
            var fall = 10 + (random.NextDouble() * 40);
            var kindOfCurve = random.Next(3);
            var k = 0;
            for (var i = 0; i < points.Length; i++)
            {
                jd += 0.05 + (random.NextDouble() * 2.5);
                var t = jd - start;
                var mag = kindOfCurve switch
                {
                    0 => peakMag + (t < rise ? 2.5 * (1 - (t / rise)) : (t - rise) / fall * 2.5),
                    1 => peakMag + 0.5 + (0.4 * Math.Sin(t / (1 + rise))),
                    _ => peakMag + 1.0 - Math.Min(1.0, t / (5 * rise)),
                };
                var limit = 20.3 + (random.NextDouble() * 0.6);

                // Every third point is a non-detection (only a limit), except the first, which must detect.
                var detected = i == 0 || i % 3 != 2;
                points[i] = new Point(jd, 1 + random.Next(2), ((long)(objectOffset + o + 1) * 100_000) + i, detected, (float)mag, (float)(0.05 + (random.NextDouble() * 0.1)), (float)limit);
                if (detected && k < n)
                {
                    pending.Add((jd, o, i));
                    k++;
                }
            }

            curves[o] = new Curve(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ZTF26{objectOffset + o:D7}"), random.NextDouble() * 360, (random.NextDouble() * 120) - 30, points);
        }

        pending.Sort(static (a, b) => a.Jd.CompareTo(b.Jd));
        var result = new List<SyntheticAlert>(pending.Count);
        var buffer = new ArrayBufferWriter<byte>(4096);
        foreach (var (jd, o, index) in pending)
        {
            if ((result.Count & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var c = curves[o];
            buffer.Clear();
            Write(buffer, c, index, maxHistory);
            var p = c.Points[index];
            result.Add(new SyntheticAlert(c.ObjectId, p.Id, jd - 2400000.5, Container(buffer.WrittenSpan)));
        }

        return result;
    }

    /// <summary>
    /// One alert of object number <paramref name="objectNumber"/> (object id <c>ZTF26nnnnnnn</c>) carrying
    /// <paramref name="points"/> − 1 earlier points in <c>prv_candidates</c> (every third a non-detection), spread over at
    /// most 2,000 days from MJD 58,500 so every time stays inside ZTF's window: the oversized-history case of the limits
    /// (tests, the fault suite and <c>bench memory</c>).
    /// </summary>
    public static SyntheticAlert LongHistory(int objectNumber, int points, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 1);
        var random = new Random(seed);
        var step = Math.Min(0.5, 2000.0 / points);
        var list = new Point[points];
        var jd = 2458500.5;
        for (var i = 0; i < points; i++)
        {
            jd += step * (0.5 + random.NextDouble());
            var detected = i == 0 || i == points - 1 || i % 3 != 2;
            list[i] = new Point(jd, 1 + random.Next(2), ((long)objectNumber * 1_000_000) + i, detected, (float)(18 + random.NextDouble()), (float)(0.05 + (random.NextDouble() * 0.1)), (float)(20.3 + (random.NextDouble() * 0.6)));
        }

        var curve = new Curve(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ZTF26{objectNumber:D7}"), random.NextDouble() * 360, (random.NextDouble() * 120) - 30, list);
        var buffer = new ArrayBufferWriter<byte>(64 + (points * 48));
        Write(buffer, curve, points - 1, int.MaxValue);
        var last = list[^1];
        return new SyntheticAlert(curve.ObjectId, last.Id, last.Jd - 2400000.5, Container(buffer.WrittenSpan));
    }

    /// <summary>
    /// A compression bomb: a ZTF-schema container of a few kilobytes whose one zstandard block inflates to
    /// <paramref name="inflatedBytes"/> zeros (the decoder's inflation limits; tests and the fault suite).
    /// </summary>
    public static byte[] CompressionBomb(int inflatedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inflatedBytes);
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, Schema, "zstandard", blockSizeBytes: inflatedBytes, leaveOpen: true))
        {
            writer.WriteEncoded(new byte[inflatedBytes]);
        }

        return stream.ToArray();
    }

    /// <summary>The alert(s) of a container message written again with <paramref name="codec"/> (block by block).</summary>
    public static byte[] Recompress(byte[] container, string codec)
    {
        var reader = AvroContainerReader.Open(container);
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, reader.Header.Schema, codec, leaveOpen: true))
        {
            while (reader.TryReadBlock(out var block))
            {
                var span = block.Data.Span;
                var datums = new AvroReader(span);
                for (long i = 0; i < block.Count; i++)
                {
                    var start = datums.Position;
                    datums.Skip(reader.Header.Schema);
                    writer.WriteEncoded(span[start..datums.Position]);
                }
            }
        }

        return stream.ToArray();
    }

    private static void Write(ArrayBufferWriter<byte> buffer, Curve c, int index, int maxHistory)
    {
        var w = new AvroWriter(buffer);
        var p = c.Points[index];
        w.WriteString("3.3");
        w.WriteString("AlertBroker synthetic");
        w.WriteString(c.ObjectId);
        w.WriteLong(p.Id);

        // candidate
        w.WriteDouble(p.Jd);
        w.WriteInt(p.Fid);
        w.WriteLong(p.Id + 7_000_000_000);
        w.WriteUnionIndex(1);
        w.WriteFloat(p.Limit);
        w.WriteInt(1);
        w.WriteLong(p.Id);
        w.WriteString("t");
        w.WriteDouble(c.Ra);
        w.WriteDouble(c.Dec);
        w.WriteFloat(p.Mag);
        w.WriteFloat(p.Sigma);
        w.WriteUnionIndex(1);
        w.WriteFloat(0.9f);
        w.WriteInt(index + 1);

        // prv_candidates: earlier points (detections and limits) within the history window
        var first = 0;
        while (first < index && c.Points[index].Jd - c.Points[first].Jd > maxHistory)
        {
            first++;
        }

        if (index == first)
        {
            w.WriteUnionIndex(0);
            return;
        }

        w.WriteUnionIndex(1);
        w.WriteArrayStart(index - first);
        for (var i = first; i < index; i++)
        {
            var q = c.Points[i];
            w.WriteDouble(q.Jd);
            w.WriteInt(q.Fid);
            w.WriteLong(q.Id + 7_000_000_000);
            w.WriteUnionIndex(1);
            w.WriteFloat(q.Limit);
            w.WriteInt(1);
            if (q.Detected)
            {
                w.WriteUnionIndex(1);
                w.WriteLong(q.Id);
                w.WriteUnionIndex(1);
                w.WriteString("t");
                w.WriteUnionIndex(1);
                w.WriteFloat(q.Mag);
                w.WriteUnionIndex(1);
                w.WriteFloat(q.Sigma);
            }
            else
            {
                w.WriteUnionIndex(0);
                w.WriteUnionIndex(0);
                w.WriteUnionIndex(0);
                w.WriteUnionIndex(0);
            }
        }

        w.WriteBlockEnd();
    }

    private static byte[] Container(ReadOnlySpan<byte> datum)
    {
        using var stream = new MemoryStream(datum.Length + 2048);
        using (var writer = new AvroContainerWriter(stream, Schema, leaveOpen: true))
        {
            writer.WriteEncoded(datum);
        }

        return stream.ToArray();
    }

    private readonly record struct Point(double Jd, int Fid, long Id, bool Detected, float Mag, float Sigma, float Limit);

    private sealed record Curve(string ObjectId, double Ra, double Dec, Point[] Points);
}
