using AlertBroker.Alerts;

namespace AlertBroker.State;

/// <summary>Merges alerts' observations into a stored light curve: deduplicated by (source id, kind), ordered by (MJD, source id, kind).</summary>
public static class LightCurveMerge
{
    /// <summary>Compares observations in light-curve order.</summary>
    public static int Compare(in Observation a, in Observation b)
    {
        var c = a.Mjd.CompareTo(b.Mjd);
        if (c != 0)
        {
            return c;
        }

        c = a.SourceId.CompareTo(b.SourceId);
        return c != 0 ? c : ((byte)a.Kind).CompareTo((byte)b.Kind);
    }

    /// <summary>
    /// Returns the merged light curve and how many observations were new. When nothing is new the existing array itself is
    /// returned, so a replayed alert costs no allocation beyond the look-up set.
    /// </summary>
    public static Observation[] Merge(Observation[] existing, IReadOnlyList<Alert> alerts, out int added)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(alerts);
        var seen = new HashSet<(long, ObservationKind)>(existing.Length + 16);
        foreach (ref readonly var o in existing.AsSpan())
        {
            seen.Add((o.SourceId, o.Kind));
        }

        List<Observation>? fresh = null;
        for (var a = 0; a < alerts.Count; a++)
        {
            var alert = alerts[a];
            Collect(alert.Detections, seen, ref fresh);
            Collect(alert.UpperLimits, seen, ref fresh);
            Collect(alert.ForcedPhotometry, seen, ref fresh);
        }

        if (fresh is null)
        {
            added = 0;
            return existing;
        }

        added = fresh.Count;
        var merged = new Observation[existing.Length + fresh.Count];
        existing.CopyTo(merged, 0);
        fresh.CopyTo(merged, existing.Length);

        // Usually the new points come after the stored ones: sort only when they do not.
        if (!IsSorted(merged))
        {
            Array.Sort(merged, static (x, y) => Compare(x, y));
        }

        return merged;
    }

    private static void Collect(Observation[] observations, HashSet<(long, ObservationKind)> seen, ref List<Observation>? fresh)
    {
        foreach (ref readonly var o in observations.AsSpan())
        {
            if (double.IsFinite(o.Mjd) && seen.Add((o.SourceId, o.Kind)))
            {
                (fresh ??= new List<Observation>(8)).Add(o);
            }
        }
    }

    private static bool IsSorted(Observation[] values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            if (Compare(values[i - 1], values[i]) > 0)
            {
                return false;
            }
        }

        return true;
    }
}
