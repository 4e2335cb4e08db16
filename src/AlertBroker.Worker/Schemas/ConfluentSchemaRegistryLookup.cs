using System.Collections.Concurrent;
using AlertBroker.Avro;
using Confluent.SchemaRegistry;

namespace AlertBroker.Worker.Schemas;

/// <summary>
/// Resolves Confluent-wire schema ids through Confluent's schema registry client (authentication, TLS, retries and its
/// cache come with it); AlertBroker's own Avro code parses the schema and decodes. Each id is parsed once and the same
/// <see cref="AvroSchema"/> instance returned afterwards (so compiled decoding plans are reused); concurrent misses share
/// one fetch. A definitive refusal (the id is not registered, not Avro, invalid) is remembered for
/// <see cref="RefusalTtl"/>, so a stream of messages with an unregistered id asks the registry about once per that time
/// rather than once per message, and a schema registered later is found within it; an unanswered lookup (registry down)
/// is not remembered. Schema references (named types registered under other subjects) are resolved.
/// </summary>
public sealed class ConfluentSchemaRegistryLookup : ISchemaLookup, IDisposable
{
    private readonly ISchemaRegistryClient _client;
    private readonly bool _ownsClient;
    private readonly ConcurrentDictionary<int, AvroSchema> _schemas = new();
    private readonly ConcurrentDictionary<int, Lazy<Task<AvroSchema>>> _fetches = new();
    private readonly SchemaRefusals _refused;

    public ConfluentSchemaRegistryLookup(ISchemaRegistryClient client, bool ownsClient = false, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _ownsClient = ownsClient;
        _refused = new SchemaRefusals(time);
    }

    /// <summary>How long a definitive refusal of an id is remembered (default 5 s; zero: not at all).</summary>
    public TimeSpan RefusalTtl { get; init; } = DefaultRefusalTtl;

    /// <summary>The default <see cref="RefusalTtl"/>.</summary>
    public static readonly TimeSpan DefaultRefusalTtl = TimeSpan.FromSeconds(5);

    /// <summary>A lookup with its own client for <paramref name="url"/> (basic authentication when a user name is given).</summary>
    public static ConfluentSchemaRegistryLookup Create(string url, string? username = null, string? password = null) =>
        new(SchemaRegistryClients.Create(url, username, password), ownsClient: true);

    public ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default)
    {
        if (_schemas.TryGetValue(schemaId, out var known))
        {
            return ValueTask.FromResult(known);
        }

        if (_refused.TryGet(schemaId, out var refused))
        {
            return ValueTask.FromException<AvroSchema>(refused);
        }

        var fetch = _fetches.GetOrAdd(schemaId, id => new Lazy<Task<AvroSchema>>(() => FetchAsync(id), LazyThreadSafetyMode.ExecutionAndPublication));
        return new ValueTask<AvroSchema>(AwaitAsync(schemaId, fetch, cancellationToken));
    }

    public void Dispose()
    {
        if (_ownsClient && _client is IDisposable d)
        {
            d.Dispose();
        }
    }

    private async Task<AvroSchema> AwaitAsync(int schemaId, Lazy<Task<AvroSchema>> fetch, CancellationToken cancellationToken)
    {
        try
        {
            return await fetch.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (AvroSchemaLookupException e) when (fetch.Value.IsCompleted)
        {
            _refused.Remember(schemaId, e, RefusalTtl);
            throw;
        }
        finally
        {
            // Success is kept in _schemas, a refusal in _refused for RefusalTtl; the shared fetch itself is dropped either
            // way, so an unanswered lookup (the registry down) is asked again by the next message.
            if (fetch.Value.IsCompleted)
            {
                _fetches.TryRemove(new KeyValuePair<int, Lazy<Task<AvroSchema>>>(schemaId, fetch));
            }
        }
    }

    private async Task<AvroSchema> FetchAsync(int id)
    {
        // The shared fetch belongs to no single caller, so no caller's token cancels it; each caller's wait is cancellable.
        await Task.Yield();
        Schema registered;
        try
        {
            registered = await _client.GetSchemaAsync(id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException or AggregateException)
        {
            throw SchemaRegistryClients.IsDefinitive(e)
                ? new AvroSchemaLookupException($"schema registry lookup of schema id {id} failed: {SchemaRegistryClients.Describe(e)}", e)
                : new SchemaLookupUnavailableException($"the schema registry did not answer the lookup of schema id {id}: {SchemaRegistryClients.Describe(e)}", e);
        }

        if (registered.SchemaType != SchemaType.Avro)
        {
            throw new AvroSchemaLookupException($"schema id {id} is a {registered.SchemaType} schema, not Avro");
        }

        AvroSchemaSet? referenced = null;
        if (registered.References is { Count: > 0 } references)
        {
            referenced = new AvroSchemaSet();
            await AddReferencesAsync(id, references, referenced, []).ConfigureAwait(false);
        }

        AvroSchema schema;
        try
        {
            schema = AvroSchema.Parse(registered.SchemaString, referenced);
        }
        catch (AvroSchemaException e)
        {
            throw new AvroSchemaLookupException($"schema id {id} from the registry is invalid: {e.Message}", e);
        }

        return _schemas.GetOrAdd(id, schema);
    }

    // Referenced schemas are added depth first, so a type is known before any schema that uses it is parsed.
    private async Task AddReferencesAsync(int id, List<SchemaReference> references, AvroSchemaSet set, HashSet<(string Subject, int Version)> seen)
    {
        foreach (var reference in references)
        {
            if (!seen.Add((reference.Subject, reference.Version)))
            {
                continue;
            }

            RegisteredSchema referenced;
            try
            {
                referenced = await _client.GetRegisteredSchemaAsync(reference.Subject, reference.Version).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException or AggregateException)
            {
                var message = $"schema id {id} references {reference.Name} ({reference.Subject} version {reference.Version}), which the registry did not return: {SchemaRegistryClients.Describe(e)}";
                throw SchemaRegistryClients.IsDefinitive(e) ? new AvroSchemaLookupException(message, e) : new SchemaLookupUnavailableException(message, e);
            }

            if (referenced.Schema.References is { Count: > 0 } nested)
            {
                await AddReferencesAsync(id, nested, set, seen).ConfigureAwait(false);
            }

            try
            {
                set.Add(referenced.Schema.SchemaString);
            }
            catch (AvroSchemaException e)
            {
                throw new AvroSchemaLookupException($"schema id {id}: referenced schema {reference.Name} ({reference.Subject} version {reference.Version}) is invalid: {e.Message}", e);
            }
        }
    }
}
