using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace AlertBroker.Avro;

/// <summary>
/// Fetches schemas from a Confluent-compatible schema registry (<c>GET {base}/schemas/ids/{id}</c>). Each id is
/// fetched once: concurrent misses share one request; failures are not cached.
/// </summary>
public sealed class SchemaRegistryLookup : ISchemaLookup, IDisposable
{
    private readonly Uri _baseAddress;
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly ConcurrentDictionary<int, Lazy<Task<AvroSchema>>> _cache = new();

    public SchemaRegistryLookup(Uri baseAddress, HttpClient? client = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        var text = baseAddress.OriginalString;
        _baseAddress = text.EndsWith('/') ? baseAddress : new Uri(text + "/");
        _ownsClient = client is null;
        _client = client ?? new HttpClient();
    }

    /// <summary>Number of HTTP requests made so far.</summary>
    public int RequestCount => _requestCount;

    private int _requestCount;

    public ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default)
    {
        var lazy = _cache.GetOrAdd(schemaId, id => new Lazy<Task<AvroSchema>>(() => FetchAsync(id), LazyThreadSafetyMode.ExecutionAndPublication));
        var task = lazy.Value;
        if (task.IsCompletedSuccessfully)
        {
            return ValueTask.FromResult(task.Result);
        }

        return new ValueTask<AvroSchema>(AwaitAsync(schemaId, lazy, cancellationToken));
    }

    private async Task<AvroSchema> AwaitAsync(int schemaId, Lazy<Task<AvroSchema>> lazy, CancellationToken cancellationToken)
    {
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            _cache.TryRemove(new KeyValuePair<int, Lazy<Task<AvroSchema>>>(schemaId, lazy));
            throw;
        }
    }

    private async Task<AvroSchema> FetchAsync(int id)
    {
        // The shared fetch is not tied to any one caller's token; each caller's wait is.
        await Task.Yield();
        Interlocked.Increment(ref _requestCount);
        var uri = new Uri(_baseAddress, "schemas/ids/" + id.ToString(CultureInfo.InvariantCulture));
        string body;
        System.Net.HttpStatusCode status;
        try
        {
            using var response = await _client.GetAsync(uri, CancellationToken.None).ConfigureAwait(false);
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync(CancellationToken.None).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new AvroSchemaLookupException($"schema registry returned {(int)status} {status} for schema id {id} ({uri}): {Excerpt(body)}");
            }
        }
        catch (HttpRequestException ex)
        {
            throw new AvroSchemaLookupException($"schema registry request for schema id {id} ({uri}) failed: {ex.Message}", ex);
        }

        string schemaJson;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("schema", out var schemaEl)
                || schemaEl.ValueKind != JsonValueKind.String)
            {
                throw new AvroSchemaLookupException($"schema registry response for id {id} has no \"schema\" string: {Excerpt(body)}");
            }

            if (doc.RootElement.TryGetProperty("schemaType", out var typeEl) && typeEl.ValueKind == JsonValueKind.String && typeEl.GetString() != "AVRO")
            {
                throw new AvroSchemaLookupException($"schema id {id} is a {typeEl.GetString()} schema, not Avro");
            }

            schemaJson = schemaEl.GetString()!;
        }
        catch (JsonException ex)
        {
            throw new AvroSchemaLookupException($"schema registry response for id {id} is not JSON: {Excerpt(body)}", ex);
        }

        try
        {
            return AvroSchema.Parse(schemaJson);
        }
        catch (AvroSchemaException ex)
        {
            throw new AvroSchemaLookupException($"schema id {id} from the registry is invalid: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static string Excerpt(string body) => body.Length <= 200 ? body : string.Concat(body.AsSpan(0, 200), "…");
}
