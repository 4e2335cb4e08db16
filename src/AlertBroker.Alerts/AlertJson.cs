using System.Text.Json;

namespace AlertBroker.Alerts;

/// <summary>Writes a normalised <see cref="Alert"/> as one JSON object (for <c>inspect --normalized</c> and <c>replay --out</c>).</summary>
public static class AlertJson
{
    /// <summary>Writes <paramref name="alert"/> to <paramref name="writer"/>. NaN values are written as null.</summary>
    public static void Write(Utf8JsonWriter writer, Alert alert)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(alert);
        writer.WriteStartObject();
        writer.WriteString("survey"u8, alert.Survey == Survey.Ztf ? "ztf" : alert.Survey == Survey.Lsst ? "lsst" : "unknown");
        writer.WriteString("schema"u8, alert.SchemaVersion);
        writer.WriteString("objectId"u8, alert.ObjectId);
        writer.WriteNumber("sourceId"u8, alert.SourceId);
        writer.WriteNumber("alertId"u8, alert.AlertId);
        Number(writer, "mjd"u8, alert.Mjd);
        writer.WriteString("band"u8, Passbands.Letter(alert.Band));
        Number(writer, "ra"u8, alert.Ra);
        Number(writer, "dec"u8, alert.Dec);
        writer.WritePropertyName("candidate"u8);
        WriteObservation(writer, alert.Candidate);
        WriteObservations(writer, "detections"u8, alert.Detections);
        WriteObservations(writer, "upperLimits"u8, alert.UpperLimits);
        WriteObservations(writer, "forcedPhotometry"u8, alert.ForcedPhotometry);
        var m = alert.Metadata;
        writer.WriteStartObject("metadata"u8);
        Number(writer, "starGalaxyScore"u8, m.StarGalaxyScore);
        Number(writer, "distanceToNearestPs1Arcsec"u8, m.DistanceToNearestPs1Arcsec);
        Number(writer, "realBogus"u8, m.RealBogus);
        Number(writer, "solarSystemDistanceArcsec"u8, m.SolarSystemDistanceArcsec);
        Number(writer, "distanceToNearestRefSource"u8, m.DistanceToNearestRefSource);
        Number(writer, "nearestRefMag"u8, m.NearestRefMag);
        Number(writer, "extendedness"u8, m.Extendedness);
        if (m.DetectionsInHistory is int n)
        {
            writer.WriteNumber("detectionsInHistory"u8, n);
        }

        if (m.SolarSystemObjectId is long ss)
        {
            writer.WriteNumber("solarSystemObjectId"u8, ss);
        }

        if (m.DiaSourceCount is int c)
        {
            writer.WriteNumber("diaSourceCount"u8, c);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The alert as a compact JSON string.</summary>
    public static string ToJson(Alert alert)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, alert);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteObservations(Utf8JsonWriter writer, ReadOnlySpan<byte> name, Observation[] observations)
    {
        writer.WriteStartArray(name);
        foreach (var o in observations)
        {
            WriteObservation(writer, o);
        }

        writer.WriteEndArray();
    }

    private static void WriteObservation(Utf8JsonWriter writer, in Observation o)
    {
        writer.WriteStartObject();
        writer.WriteNumber("sourceId"u8, o.SourceId);
        Number(writer, "mjd"u8, o.Mjd);
        writer.WriteString("band"u8, Passbands.Letter(o.Band));
        writer.WriteString("kind"u8, o.Kind switch
        {
            ObservationKind.Detection => "detection",
            ObservationKind.UpperLimit => "upperLimit",
            _ => "forced",
        });
        Number(writer, "fluxMicroJy"u8, o.FluxMicroJy);
        Number(writer, "fluxErrMicroJy"u8, o.FluxErrMicroJy);
        Number(writer, "limitingMag"u8, o.LimitingMag);
        writer.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter writer, ReadOnlySpan<byte> name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void Number(Utf8JsonWriter writer, ReadOnlySpan<byte> name, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
