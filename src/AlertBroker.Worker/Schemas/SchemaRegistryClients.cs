using Confluent.SchemaRegistry;

namespace AlertBroker.Worker.Schemas;

/// <summary>
/// Confluent's cached schema registry client, made from AlertBroker's settings (<c>AlertBroker:Schemas:RegistryUrl</c>,
/// <c>RegistryUsername</c>, <c>RegistryPassword</c>). It brings HTTP basic authentication, TLS (https URLs, checked
/// against the system's trust store), several URLs separated by commas, retries and a cache of schemas by id.
/// </summary>
public static class SchemaRegistryClients
{
    /// <summary>Creates a client; basic authentication is used when a user name is given.</summary>
    public static CachedSchemaRegistryClient Create(string url, string? username = null, string? password = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        var config = new SchemaRegistryConfig
        {
            Url = url,
            RequestTimeoutMs = 10_000,
            MaxRetries = 2,
            RetriesWaitMs = 200,
            RetriesMaxWaitMs = 2_000,
        };
        if (!string.IsNullOrEmpty(username))
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = username + ":" + (password ?? string.Empty);
        }

        return new CachedSchemaRegistryClient(config);
    }

    /// <summary>Every comma-separated part of <paramref name="url"/> is an absolute http or https URL.</summary>
    public static bool IsValidUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }

        foreach (var part in url.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether a failed lookup says something about the schema itself (the registry answered that the id or subject is
    /// unknown, or the request is invalid: a 4xx other than 401, 403, 408 and 429) rather than about the registry being
    /// unreachable, overloaded or refusing the credentials, which may pass.
    /// </summary>
    internal static bool IsDefinitive(Exception e) => e switch
    {
        SchemaRegistryException r => (int)r.Status is >= 400 and < 500 and not (401 or 403 or 408 or 429),
        AggregateException { InnerException: { } inner } => IsDefinitive(inner),
        _ => false,
    };

    /// <summary>The registry's answer in words (status and error code, or why no answer came).</summary>
    internal static string Describe(Exception e) => e switch
    {
        SchemaRegistryException r => $"{(int)r.Status} {r.Status}, error code {r.ErrorCode}: {r.Message}",
        HttpRequestException h => "request failed: " + h.Message,
        TaskCanceledException or TimeoutException => "no answer in time",
        AggregateException { InnerException: { } inner } => Describe(inner),
        _ => e.Message,
    };
}
