using System.Collections;

namespace AlertBroker.Avro;

/// <summary>Structural equality over generic datums (records, lists, maps, byte memory, floats with NaN equal to NaN).</summary>
public static class GenericEquality
{
    /// <summary>True when the two generic datums hold the same values.</summary>
    public static bool DeepEquals(object? a, object? b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a is null || b is null)
        {
            return false;
        }

        switch (a)
        {
            case ReadOnlyMemory<byte> ma:
                return b is ReadOnlyMemory<byte> mb && ma.Span.SequenceEqual(mb.Span);
            case float fa:
                return b is float fb && (fa.Equals(fb));
            case double da:
                return b is double db && (da.Equals(db));
            case IList la when b is IList lb:
                {
                    if (la.Count != lb.Count)
                    {
                        return false;
                    }

                    for (var i = 0; i < la.Count; i++)
                    {
                        if (!DeepEquals(la[i], lb[i]))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            case IDictionary<string, object?> da2 when b is IDictionary<string, object?> db2:
                {
                    if (da2.Count != db2.Count)
                    {
                        return false;
                    }

                    foreach (var (k, v) in da2)
                    {
                        if (!db2.TryGetValue(k, out var other) || !DeepEquals(v, other))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            default:
                return a.Equals(b);
        }
    }
}
