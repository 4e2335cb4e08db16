using AlertBroker.Worker.Schemas;
using Confluent.SchemaRegistry;

namespace AlertBroker.Worker.Output;

/// <summary>The registry did not register the output schema (unreachable, refused the credentials, or rejected the schema).</summary>
public sealed class SchemaRegistrationException : Exception
{
    public SchemaRegistrationException()
    {
    }

    public SchemaRegistrationException(string message)
        : base(message)
    {
    }

    public SchemaRegistrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Registers the output schema with a Confluent-compatible schema registry (POST /subjects/{subject}/versions).</summary>
public static class SchemaRegistration
{
    /// <summary>Registers <paramref name="schemaJson"/> (Avro) under <paramref name="subject"/> and returns its schema id.</summary>
    /// <exception cref="SchemaRegistrationException">The registry did not register it.</exception>
    public static async Task<int> RegisterAsync(ISchemaRegistryClient registry, string subject, string schemaJson, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(schemaJson);
        try
        {
            return await registry.RegisterSchemaAsync(subject, new Schema(schemaJson, SchemaType.Avro), normalize: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException or AggregateException && !cancellationToken.IsCancellationRequested)
        {
            throw new SchemaRegistrationException($"registering the output schema under subject '{subject}' failed: {SchemaRegistryClients.Describe(e)}", e);
        }
    }
}
