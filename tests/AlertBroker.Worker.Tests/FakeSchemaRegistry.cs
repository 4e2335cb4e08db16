using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// A small in-process Confluent-compatible schema registry on a loopback port: <c>GET /schemas/ids/{id}</c>,
/// <c>POST /subjects/{subject}/versions</c> (register), <c>POST /subjects/{subject}</c> (look up),
/// <c>GET /subjects/{subject}/versions/{version}</c>; optional HTTP basic authentication. Records every request.
/// </summary>
internal sealed class FakeSchemaRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Entry> _byId = [];
    private readonly Dictionary<string, List<int>> _subjects = new(StringComparer.Ordinal);
    private int _nextId = 1;

    private FakeSchemaRegistry(WebApplication app, string? username, string? password)
    {
        _app = app;
        Username = username;
        Password = password;
    }

    public string Url { get; private set; } = string.Empty;

    public string? Username { get; }

    public string? Password { get; }

    /// <summary>Every request: method, path, and the Authorization header as sent (null when none).</summary>
    public ConcurrentQueue<(string Method, string Path, string? Authorization)> Requests { get; } = new();

    /// <summary>Delay before answering <c>GET /schemas/ids/…</c> (to let concurrent callers pile up).</summary>
    public TimeSpan LookupDelay { get; set; }

    /// <summary>While set, every request is answered with this HTTP status (an outage: 503, 500, …).</summary>
    public int? FailStatus { get; set; }

    public int CountRequests(string method, string path) => Requests.Count(r => r.Method == method && r.Path == path);

    public static async Task<FakeSchemaRegistry> StartAsync(string? username = null, string? password = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var registry = new FakeSchemaRegistry(app, username, password);
        registry.Map();
        await app.StartAsync();
        registry.Url = app.Urls.First().TrimEnd('/');
        return registry;
    }

    /// <summary>Registers a schema under a subject directly (as another producer would have) and returns its id.</summary>
    public int Add(string subject, string schema, string? schemaType = null, JsonArray? references = null) =>
        Register(subject, schema, schemaType, references).Id;

    /// <summary>The id and text of the newest schema under <paramref name="subject"/>, or null.</summary>
    public (int Id, string Schema)? Latest(string subject)
    {
        lock (_gate)
        {
            return _subjects.TryGetValue(subject, out var versions) && versions.Count > 0 ? (versions[^1], _byId[versions[^1]].Schema) : null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private (int Id, int Version) Register(string subject, string schema, string? schemaType, JsonArray? references)
    {
        lock (_gate)
        {
            var versions = _subjects.TryGetValue(subject, out var list) ? list : _subjects[subject] = [];
            foreach (var id in versions)
            {
                if (_byId[id].Schema == schema)
                {
                    return (id, versions.IndexOf(id) + 1);
                }
            }

            var existing = _byId.FirstOrDefault(kv => kv.Value.Schema == schema && kv.Value.SchemaType == schemaType).Key;
            var newId = existing != 0 ? existing : _nextId++;
            _byId[newId] = new Entry(schema, schemaType, references?.ToJsonString());
            versions.Add(newId);
            return (newId, versions.Count);
        }
    }

    private void Map()
    {
        _app.Use(async (context, next) =>
        {
            var auth = context.Request.Headers.Authorization.FirstOrDefault();
            Requests.Enqueue((context.Request.Method, context.Request.Path.Value ?? string.Empty, auth));
            if (FailStatus is { } status)
            {
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new { error_code = (status * 100) + 1, message = "simulated outage" });
                return;
            }

            if (Username is not null)
            {
                var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Username + ":" + Password));
                if (auth != expected)
                {
                    context.Response.StatusCode = 401;
                    await context.Response.WriteAsJsonAsync(new { error_code = 401, message = "Unauthorized" });
                    return;
                }
            }

            await next(context);
        });

        _app.MapGet("/schemas/ids/{id:int}", async (int id) =>
        {
            if (LookupDelay > TimeSpan.Zero)
            {
                await Task.Delay(LookupDelay);
            }

            Entry? entry;
            lock (_gate)
            {
                _byId.TryGetValue(id, out entry);
            }

            return entry is null
                ? Results.Json(new { error_code = 40403, message = "Schema " + id + " not found" }, statusCode: 404)
                : Results.Text(entry.ToJson(null, id, null).ToJsonString(), "application/vnd.schemaregistry.v1+json");
        });

        _app.MapPost("/subjects/{subject}/versions", async (string subject, HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            var schema = body?["schema"]?.GetValue<string>();
            if (schema is null)
            {
                return Results.Json(new { error_code = 42201, message = "Invalid schema" }, statusCode: 422);
            }

            try
            {
                using var _ = JsonDocument.Parse(schema);
            }
            catch (JsonException)
            {
                return Results.Json(new { error_code = 42201, message = "Invalid schema" }, statusCode: 422);
            }

            var (id, _) = Register(subject, schema, body?["schemaType"]?.GetValue<string>(), body?["references"] as JsonArray);
            return Results.Json(new { id });
        });

        _app.MapPost("/subjects/{subject}", async (string subject, HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            var schema = body?["schema"]?.GetValue<string>();
            lock (_gate)
            {
                if (_subjects.TryGetValue(subject, out var versions))
                {
                    for (var i = 0; i < versions.Count; i++)
                    {
                        if (_byId[versions[i]].Schema == schema)
                        {
                            return Results.Text(_byId[versions[i]].ToJson(subject, versions[i], i + 1).ToJsonString(), "application/vnd.schemaregistry.v1+json");
                        }
                    }

                    return Results.Json(new { error_code = 40403, message = "Schema not found" }, statusCode: 404);
                }
            }

            return Results.Json(new { error_code = 40401, message = "Subject '" + subject + "' not found." }, statusCode: 404);
        });

        _app.MapGet("/subjects/{subject}/versions/{version}", (string subject, string version) =>
        {
            lock (_gate)
            {
                if (!_subjects.TryGetValue(subject, out var versions))
                {
                    return Results.Json(new { error_code = 40401, message = "Subject '" + subject + "' not found." }, statusCode: 404);
                }

                var n = version == "latest" ? versions.Count : int.TryParse(version, out var v) ? v : -1;
                if (n < 1 || n > versions.Count)
                {
                    return Results.Json(new { error_code = 40402, message = "Version " + version + " not found." }, statusCode: 404);
                }

                var id = versions[n - 1];
                return Results.Text(_byId[id].ToJson(subject, id, n).ToJsonString(), "application/vnd.schemaregistry.v1+json");
            }
        });
    }

    private sealed record Entry(string Schema, string? SchemaType, string? References)
    {
        public JsonObject ToJson(string? subject, int id, int? version)
        {
            var o = new JsonObject();
            if (subject is not null)
            {
                o["subject"] = subject;
                o["version"] = version;
            }

            o["id"] = id;
            if (SchemaType is not null && SchemaType != "AVRO")
            {
                o["schemaType"] = SchemaType;
            }

            o["schema"] = Schema;
            if (References is not null)
            {
                o["references"] = JsonNode.Parse(References);
            }

            return o;
        }
    }
}
