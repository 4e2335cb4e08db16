using System.Text.RegularExpressions;
using Confluent.SchemaRegistry;

namespace AlertBroker.Worker.Schemas;

/// <summary>
/// Confluent's cached schema registry client, made from AlertBroker's settings (<c>AlertBroker:Schemas:RegistryUrl</c>,
/// <c>RegistryUsername</c>, <c>RegistryPassword</c>). It brings HTTP basic authentication, TLS (https URLs, checked
/// against the system's trust store), several URLs separated by commas, retries and a cache of schemas by id.
/// </summary>
public static partial class SchemaRegistryClients
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
    /// Whether a comma-separated part of <paramref name="url"/> carries credentials (<c>http://user:password@host/</c>):
    /// they are refused at start (the credentials go in <c>AlertBroker:Schemas:RegistryUsername</c> and
    /// <c>RegistryPassword</c>), since the URL is printed in the registry client's errors and in the worker's logs. Until
    /// 2026-12-07 such a URL was accepted and its password printed in the exit message of a registry that did not answer.
    /// </summary>
    public static bool HasUserInfo(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }

        foreach (var part in url.Split(',', StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(part, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>What the registry settings say when a URL carries credentials (<see cref="HasUserInfo"/>); <paramref name="name"/> is the option or key.</summary>
    public static string UserInfoProblem(string name) =>
        $"{name} must not hold a user name or password (user:password@host): give them as AlertBroker:Schemas:RegistryUsername and RegistryPassword (AlertBroker__Schemas__RegistryUsername, AlertBroker__Schemas__RegistryPassword in the environment).";

    /// <summary>
    /// <paramref name="text"/> with the credentials of any URL in it (<c>http://user:password@host</c>) replaced by
    /// <c>*****</c>: the registry client's errors name the URL it tried.
    /// </summary>
    public static string RedactUrlCredentials(string? text) =>
        string.IsNullOrEmpty(text) ? string.Empty : UrlUserInfo().Replace(text, "$1*****@");

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

    /// <summary>The registry's answer in words (status and error code, or why no answer came), any URL's credentials redacted.</summary>
    internal static string Describe(Exception e) => RedactUrlCredentials(DescribeAsGiven(e));

    private static string DescribeAsGiven(Exception e) => e switch
    {
        SchemaRegistryException r => $"{(int)r.Status} {r.Status}, error code {r.ErrorCode}: {r.Message}",
        HttpRequestException h => "request failed: " + h.Message,
        TaskCanceledException or TimeoutException => "no answer in time",
        AggregateException { InnerException: { } inner } => DescribeAsGiven(inner),
        _ => e.Message,
    };

    // scheme://userinfo@ — userinfo up to the first @ before the host (no slash, whitespace or bracket in it).
    [GeneratedRegex(@"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s\[\]@]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlUserInfo();
}
