using AlertBroker.Worker.Hosting;
using Confluent.SchemaRegistry;

namespace AlertBroker.Worker.Schemas;

/// <summary>The worker's one schema registry client (none when no registry is configured), shared by input lookups and output registration.</summary>
public sealed class SchemaRegistryConnection : IDisposable
{
    private readonly CachedSchemaRegistryClient? _client;

    public SchemaRegistryConnection(SchemaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.RegistryUrl))
        {
            Url = options.RegistryUrl;
            _client = SchemaRegistryClients.Create(options.RegistryUrl, options.RegistryUsername, options.RegistryPassword);
        }
    }

    /// <summary>The registry URL (never carries the credentials), or null.</summary>
    public string? Url { get; }

    public ISchemaRegistryClient? Client => _client;

    public void Dispose() => _client?.Dispose();
}
