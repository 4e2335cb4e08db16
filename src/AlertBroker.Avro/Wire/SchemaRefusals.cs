using System.Collections.Concurrent;

namespace AlertBroker.Avro;

/// <summary>
/// Schema ids a lookup refused (not registered, no file, invalid), each remembered with its error for a time, so that a
/// stream of messages carrying such an id is refused at the cost of a dictionary read, not a registry request or a look
/// at the file system per message. At most <see cref="MaxRemembered"/> ids are kept (random ids must not grow it without
/// end): when full, expired ones are dropped, and if none has expired, all.
/// </summary>
public sealed class SchemaRefusals
{
    private readonly ConcurrentDictionary<int, (long Until, AvroSchemaLookupException Error)> _refused = new();
    private readonly TimeProvider _time;

    public SchemaRefusals(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Most ids remembered at once.</summary>
    public const int MaxRemembered = 10_000;

    /// <summary>How many ids are remembered now.</summary>
    public int Count => _refused.Count;

    /// <summary>The refusal of <paramref name="schemaId"/> as a new exception (the first as its inner one), while remembered.</summary>
    public bool TryGet(int schemaId, out AvroSchemaLookupException error)
    {
        if (_refused.TryGetValue(schemaId, out var refused))
        {
            if (_time.GetTimestamp() < refused.Until)
            {
                error = new AvroSchemaLookupException(refused.Error.Message, refused.Error);
                return true;
            }

            _refused.TryRemove(new KeyValuePair<int, (long, AvroSchemaLookupException)>(schemaId, refused));
        }

        error = null!;
        return false;
    }

    /// <summary>Remembers <paramref name="error"/> for <paramref name="schemaId"/> for <paramref name="ttl"/> (zero or less: not at all).</summary>
    public void Remember(int schemaId, AvroSchemaLookupException error, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        var now = _time.GetTimestamp();
        if (_refused.Count >= MaxRemembered)
        {
            foreach (var (id, entry) in _refused)
            {
                if (entry.Until <= now)
                {
                    _refused.TryRemove(new KeyValuePair<int, (long, AvroSchemaLookupException)>(id, entry));
                }
            }

            if (_refused.Count >= MaxRemembered)
            {
                _refused.Clear();
            }
        }

        _refused[schemaId] = (now + (long)(ttl.TotalSeconds * _time.TimestampFrequency), error);
    }
}
