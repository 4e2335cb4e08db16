using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// Section <c>AlertBroker:Web</c>: the web view (pages and JSON API, <c>docs/web.md</c>) and what the worker keeps for it.
/// Read by the worker (<see cref="RecentClassifications"/>) and by the web view, in a worker (<c>run --web</c>) or alone
/// (<c>alertbroker serve</c>).
/// </summary>
public sealed class WebOptions
{
    public const string Section = "AlertBroker:Web";

    /// <summary>Serve the web view from the worker, on its HTTP listener beside <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How many recent classifications the worker keeps for the web view: in process, and — when its state is in Redis —
    /// in a capped Redis list beside the objects (<c>{State:KeyPrefix}:recent-classifications</c>) that <c>serve</c> reads.
    /// 0 keeps none.
    /// </summary>
    public int RecentClassifications { get; set; } = 500;

    /// <summary>
    /// A directory of model packages (<c>name/version/model.json</c>, like <c>models/</c>) where the web view looks for the
    /// model that scored an object when the registry does not have it (default: the checkout's <c>models/</c>, when found).
    /// </summary>
    public string? ModelDirectory { get; set; }

    /// <summary>How often the overview page is sent fresh numbers (server-sent events), in seconds.</summary>
    public double RefreshSeconds { get; set; } = 2;

    /// <summary>
    /// The most overview pages that get live updates (server-sent events) at once; a further stream is answered 503 with
    /// <c>Retry-After</c>, and the page polls <c>/api/overview</c> every <see cref="RefreshSeconds"/> instead.
    /// </summary>
    public int MaxStreamClients { get; set; } = 100;
}

internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        var problems = new List<string>();
        if (options.RecentClassifications is < 0 or > 100_000)
        {
            problems.Add("AlertBroker:Web:RecentClassifications must be between 0 (keep none) and 100000.");
        }

        if (options.ModelDirectory is { Length: > 0 } dir && !Directory.Exists(dir))
        {
            problems.Add($"AlertBroker:Web:ModelDirectory '{dir}' is not a directory.");
        }

        if (!(options.RefreshSeconds is >= 0.2 and <= 3600))
        {
            problems.Add("AlertBroker:Web:RefreshSeconds must be between 0.2 and 3600.");
        }

        if (options.MaxStreamClients < 1)
        {
            problems.Add($"AlertBroker:Web:MaxStreamClients must be at least 1 (it is {options.MaxStreamClients}): the most overview pages with live updates at once; further pages poll.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
