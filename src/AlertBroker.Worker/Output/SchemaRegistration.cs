using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlertBroker.Worker.Output;

/// <summary>Registers the output schema with a Confluent-compatible schema registry (POST /subjects/{subject}/versions).</summary>
public static class SchemaRegistration
{
    public static async Task<int> RegisterAsync(Uri registry, string subject, string schemaJson, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var baseAddress = registry.AbsoluteUri.EndsWith('/') ? registry : new Uri(registry.AbsoluteUri + "/");
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var body = new JsonObject { ["schema"] = schemaJson };
        using var content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/vnd.schemaregistry.v1+json");
        using var response = await client.PostAsync(new Uri("subjects/" + Uri.EscapeDataString(subject) + "/versions", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var doc = await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken).ConfigureAwait(false);
        return doc!.RootElement.GetProperty("id").GetInt32();
    }
}
