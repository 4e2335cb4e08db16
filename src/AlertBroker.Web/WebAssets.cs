using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace AlertBroker.Web;

/// <summary>
/// The pages, scripts and styles, embedded in this assembly (<c>wwwroot/</c>) and served by the process itself: no CDN,
/// no files to deploy. Each page is a static shell; its script fetches everything it shows from the JSON API. The
/// Content-Security-Policy allows scripts, styles and requests from this origin only, and no inline script or style,
/// so text that reaches a page as data can never run as code.
/// </summary>
internal static class WebAssets
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> s_assets = Load();

    /// <summary>Page routes and the shell each serves.</summary>
    private static readonly (string Route, string File)[] s_pages =
    [
        ("/ui/", "index.html"),
        ("/ui/models", "models.html"),
        ("/ui/objects", "objects.html"),
        ("/ui/object", "object.html"),
    ];

    public static IReadOnlyCollection<string> Names => s_assets.Keys;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/", WebApi.ReadMethods, () => Results.Redirect("/ui/"));
        var ui = endpoints.MapGroup("/ui").AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-cache";
            return await next(context).ConfigureAwait(false);
        });
        foreach (var (route, file) in s_pages)
        {
            var asset = s_assets[file];
            ui.MapMethods(route["/ui".Length..], WebApi.ReadMethods, (HttpContext context) => Serve(context, asset));
        }

        ui.MapMethods("/assets/{name}", WebApi.ReadMethods, (HttpContext context, string name) =>
            s_assets.TryGetValue(name, out var asset) && !name.EndsWith(".html", StringComparison.Ordinal) ? Serve(context, asset) : Results.NotFound());
    }

    private static IResult Serve(HttpContext context, Asset asset)
    {
        context.Response.Headers.ETag = asset.ETag;
        return NotModified(context.Request, asset.ETag)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(asset.Bytes, asset.ContentType);
    }

    // If-None-Match as RFC 9110 reads it: "*", or a list of tags of which one matches by weak comparison (W/"x" matches
    // "x"). An exact string comparison missed lists and weak tags, so such clients got the whole asset every time.
    private static bool NotModified(HttpRequest request, string etag)
    {
        var tags = request.GetTypedHeaders().IfNoneMatch;
        if (tags.Count == 0)
        {
            return false;
        }

        var ours = EntityTagHeaderValue.Parse(etag);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(ours, useStrongComparison: false));
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(WebAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("web/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var name = resource["web/".Length..];
            assets[name] = new Asset(bytes, ContentTypeOf(name), "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8)) + "\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
