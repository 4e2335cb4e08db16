using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.State;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace AlertBroker.Web.Tests;

/// <summary>
/// Every page in headless Chromium against a worker run as <c>run --web</c> and fed the real samples through the mock
/// Kafka cluster (<see cref="StreamFixture"/>): the DOM holds what the stream produced, nothing on the console is an
/// error, and each page's screenshot is saved (docs/web.md shows them).
/// </summary>
public sealed class BrowserTests : IClassFixture<StreamFixture>, IClassFixture<BrowserFixture>
{
    private readonly StreamFixture _stream;
    private readonly BrowserFixture _browser;

    public BrowserTests(StreamFixture stream, BrowserFixture browser)
    {
        _stream = stream;
        _browser = browser;
        Assert.True(stream.Unavailable is null, stream.Unavailable);
        _browser.ConsoleMessages();
    }

    [BrowserFact]
    public void OverviewPage_AfterTheStream_ShowsNonZeroNumbersAndUpdatesLive()
    {
        _browser.Open(_stream.BaseUrl + "/ui/");
        var d = _browser.Driver;
        Assert.True(Number(d, "#alerts .value") >= _stream.MessagesFed - 10, "alerts: " + Text(d, "#alerts .value"));
        Assert.True(Number(d, "#classifications .value") > 0);
        Assert.True(Number(d, "#withheld .value") > 0, "withheld (the real ZTF samples are mostly not transient candidates): " + Text(d, "#withheld .value"));
        Assert.True(Number(d, "#peak .value") > 0);
        Assert.True(Number(d, "#latency-p50 .value") > 0, "latency p50: " + Text(d, "#latency-p50 .value"));
        Assert.True(Number(d, "#latency-p99 .value") > 0);
        Assert.Contains("ztf-bts@2.0.0", Text(d, "#survey-models tr[data-survey='ztf']"), StringComparison.Ordinal);
        Assert.Single(d.FindElements(By.CssSelector("#throughput polyline.throughput")));
        Assert.NotEmpty(d.FindElements(By.CssSelector("#lag tbody tr")));
        Assert.Contains("(this worker)", Text(d, "#source"), StringComparison.Ordinal);

        // Live: the server pushes a new overview every second (server-sent events), and the page shows its time.
        var first = Text(d, "#status");
        new WebDriverWait(d, TimeSpan.FromSeconds(10)).Until(x => Text(x, "#status") != first && Text(x, "#status").StartsWith("updated", StringComparison.Ordinal));
        AssertNoConsoleErrors();
        _browser.Screenshot("web-overview", 1100);
    }

    [BrowserFact]
    public void ModelsPage_Loaded_ListsTheRegistrysVersionsPointersAuditAndLiveWorker()
    {
        _browser.Open(_stream.BaseUrl + "/ui/models");
        var d = _browser.Driver;
        var versions = d.FindElements(By.CssSelector("#versions tbody tr")).Select(r => r.GetDomAttribute("data-model")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["ztf-bts@2.0.0", "ztf-sim-base@2.0.0"], versions);
        Assert.Contains("active", Text(d, "#versions tr[data-model='ztf-bts@2.0.0']"), StringComparison.Ordinal);
        Assert.Contains("rollback", Text(d, "#versions tr[data-model='ztf-sim-base@2.0.0']"), StringComparison.Ordinal);
        var pointers = Text(d, "#pointers tr[data-survey='ztf']");
        Assert.Contains("ztf-bts@2.0.0", pointers, StringComparison.Ordinal);
        Assert.Contains("ztf-sim-base@2.0.0", pointers, StringComparison.Ordinal);
        Assert.Equal(2, d.FindElements(By.CssSelector("#audit tbody tr")).Count);

        // The worker's heartbeat (every 5 s; the page reloads its data every 5 s).
        new WebDriverWait(d, TimeSpan.FromSeconds(20)).Until(x => x.FindElements(By.CssSelector("#workers tr[data-worker]")).Count > 0);
        var worker = Text(d, "#workers tr[data-worker]");
        Assert.Contains("ztf-bts@2.0.0", worker, StringComparison.Ordinal);
        Assert.Contains("ok", worker, StringComparison.Ordinal);
        AssertNoConsoleErrors();
        _browser.Screenshot("web-models", 1100);
    }

    [BrowserFact]
    public void ObjectPage_NewestAlertNotATransientCandidate_SaysSoAboveTheProbabilities()
    {
        // ZTF objects as fed, each with its newest alert; most real samples are bogus or negative subtractions.
        var newest = _stream.AlertsByObject.Where(p => p.Value[0].Survey == Survey.Ztf)
            .Select(p => (Id: p.Key, Alert: p.Value.MaxBy(a => a.Mjd)!)).OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
        var withheld = newest.First(p => CandidateFilter.Default.Check(p.Alert) is not null);
        var candidate = newest.First(p => CandidateFilter.Default.Check(p.Alert) is null);
        var d = _browser.Driver;

        _browser.Open(_stream.BaseUrl + "/ui/object?survey=ztf&id=" + Uri.EscapeDataString(withheld.Id));
        new WebDriverWait(d, TimeSpan.FromSeconds(20)).Until(x => x.FindElements(By.Id("withheld")).Count > 0);
        Assert.StartsWith("Its newest classification was published without probabilities (not a transient candidate: ", Text(d, "#withheld"), StringComparison.Ordinal);
        Assert.NotEmpty(d.FindElements(By.Id("top-class")));

        _browser.Open(_stream.BaseUrl + "/ui/object?survey=ztf&id=" + Uri.EscapeDataString(candidate.Id));
        new WebDriverWait(d, TimeSpan.FromSeconds(20)).Until(x => x.FindElements(By.Id("top-class")).Count > 0);
        Assert.Empty(d.FindElements(By.Id("withheld")));
        AssertNoConsoleErrors();
    }

    [BrowserFact]
    public void ObjectPage_KnownObject_PlotsEveryObservationPerBandAndProbabilitiesSumToOneAtEveryStep()
    {
        // The real ZTF object with the longest light curve, counted from the alerts as fed (independently of the worker).
        var (objectId, alerts) = _stream.AlertsByObject
            .Where(p => p.Value[0].Survey == Survey.Ztf)
            .OrderByDescending(p => WebTestKit.PlottableCounts(p.Value).Values.Sum())
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (p.Key, p.Value))
            .First();
        var expected = WebTestKit.PlottableCounts(alerts);
        Assert.True(expected.Count >= 2, "the known object should have several bands or kinds");
        _browser.Open(_stream.BaseUrl + "/ui/object?survey=ztf&id=" + Uri.EscapeDataString(objectId));
        var d = _browser.Driver;
        Assert.Equal(objectId, Text(d, "#object-id"));
        foreach (var ((band, kind), count) in expected)
        {
            var shown = d.FindElements(By.CssSelector($"#lightcurve .pt[data-band='{band}'][data-kind='{kind}']")).Count;
            Assert.True(count == shown, $"{band} {kind}: {count} observations fed, {shown} plotted");
        }

        Assert.Equal(expected.Values.Sum(), d.FindElements(By.CssSelector("#lightcurve .pt")).Count);
        Assert.NotEmpty(d.FindElements(By.CssSelector("#lightcurve .pt line.errorbar")));

        // One row of probabilities per step the network saw; every row sums to one. The shipped ZTF models are fed
        // detections of positive flux only (this object's light curve has many negative ones).
        var seen = new HashSet<(long, ObservationKind)>();
        var steps = alerts.SelectMany(a => a.Detections.Concat(a.UpperLimits).Concat(a.ForcedPhotometry))
            .Where(o => double.IsFinite(o.Mjd) && seen.Add((o.SourceId, o.Kind)))
            .Count(o => LightCurveEncoding.IsStep(o) && o.Kind == ObservationKind.Detection && o.FluxMicroJy > 0);
        Assert.Equal("true", d.FindElement(By.Id("model-status")).GetDomAttribute("data-available"));
        var rows = d.FindElements(By.CssSelector("#probabilities tbody tr"));
        Assert.Equal(steps, rows.Count);
        double[]? last = null;
        foreach (var row in rows)
        {
            var p = row.FindElements(By.CssSelector("td[data-p]")).Select(c => double.Parse(c.GetDomAttribute("data-p")!, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(5, p.Length);
            Assert.InRange(p.Sum(), 1 - 1e-4, 1 + 1e-4);
            Assert.All(p, x => Assert.InRange(x, 0, 1));
            last = p;
        }

        Assert.Equal(5, d.FindElements(By.CssSelector("#probabilities-chart polyline")).Count);
        var classes = d.FindElements(By.CssSelector("#probabilities thead th")).Skip(3).Select(c => c.GetDomProperty("textContent")).ToArray();
        Assert.Equal(classes[Array.IndexOf(last!, last!.Max())], Text(d, "#top-class"));
        Assert.Contains("agrees with the stored classification", Text(d, "#model-status"), StringComparison.Ordinal);
        AssertNoConsoleErrors();
        _browser.Screenshot("web-object", 1700);
    }

    [BrowserFact]
    public void ObjectsPage_RecentAndSearch_LinkToObjectPages()
    {
        _browser.Open(_stream.BaseUrl + "/ui/objects?q=ZTF18");
        var d = _browser.Driver;
        new WebDriverWait(d, TimeSpan.FromSeconds(10)).Until(x => x.FindElements(By.CssSelector("#matches tbody tr")).Count > 0);
        Assert.All(d.FindElements(By.CssSelector("#matches a.object-link")), a => Assert.StartsWith("ZTF18", a.GetDomProperty("textContent"), StringComparison.Ordinal));
        var recent = d.FindElements(By.CssSelector("#recent tbody tr"));
        Assert.InRange(recent.Count, 10, 100);

        // A row without probabilities says why: here the real Rubin samples, which no model of this worker serves (and
        // most of which are not transient candidates either: the unserved reason comes first).
        Assert.Contains(recent, r => r.GetDomProperty("textContent")!.Contains("no model serves the survey lsst", StringComparison.Ordinal));
        AssertNoConsoleErrors();
        _browser.Screenshot("web-objects", 1100);

        var link = d.FindElement(By.CssSelector("#recent tbody tr a.object-link"));
        var id = link.GetDomProperty("textContent");
        link.Click();
        new WebDriverWait(d, TimeSpan.FromSeconds(20)).Until(x => x.FindElement(By.TagName("body")).GetDomAttribute("data-loaded") == "true" && x.Url.Contains("/ui/object?", StringComparison.Ordinal));
        Assert.Equal(id, Text(d, "#object-id"));
        Assert.NotEmpty(d.FindElements(By.CssSelector("#lightcurve .pt")));
        AssertNoConsoleErrors();
    }

    [BrowserFact]
    public void ObjectPage_IdWithMarkup_IsShownAsTextAndNeverRuns()
    {
        const string Hostile = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>";
        _browser.Open(_stream.BaseUrl + "/ui/object?survey=ztf&id=" + Uri.EscapeDataString(Hostile));
        var d = _browser.Driver;
        Assert.Equal(Hostile, Text(d, "#object-id"));
        Assert.Contains("no object", Text(d, "#status"), StringComparison.Ordinal);
        Assert.Empty(d.FindElements(By.CssSelector("main img, main script")));
        Assert.Null(_browser.Script("return window.__pwned"));

        _browser.Open(_stream.BaseUrl + "/ui/objects?q=" + Uri.EscapeDataString(Hostile));
        new WebDriverWait(d, TimeSpan.FromSeconds(10)).Until(x => x.FindElements(By.CssSelector("#matches p")).Count > 0);
        Assert.Equal(Hostile, Text(d, "#query"));
        Assert.Empty(d.FindElements(By.CssSelector("main img, main script")));
        Assert.Null(_browser.Script("return window.__pwned"));
    }

    [BrowserFact]
    public async Task ObjectPage_ModelNotAvailable_SaysSoAndStillShowsTheLightCurve()
    {
        // A state scored by a model that is in neither the registry nor any model directory.
        var store = _stream.Host!.Services.GetRequiredService<IObjectStateStore>();
        var observations = new[]
        {
            new Observation(1, 60000.1, Passband.ZtfG, ObservationKind.Detection, 120f, 8f, 20.5f),
            new Observation(2, 60001.2, Passband.ZtfR, ObservationKind.Detection, 150f, 9f, 20.4f),
            new Observation(3, 60002.3, Passband.ZtfG, ObservationKind.UpperLimit, float.NaN, 6f, 20.1f),
        };
        var committed = new bool[1];
        await store.WriteAsync(
            [new StateWrite(new ObjectKey(Survey.Ztf, "ZTFwebgone"), 0, new ObjectState
            {
                Version = 1,
                UpdatedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                Observations = observations,
                ModelId = "retired-model/0.9.0/0123456789ab",
                ScoredSteps = 2,
                LastStepMjd = 60001.2,
                LastStepSourceId = 2,
                ReferenceMjd = 60000.1,
                HiddenState = new float[4],
                Probabilities = [0.7f, 0.3f],
            })],
            committed);
        Assert.True(committed[0]);
        _browser.Open(_stream.BaseUrl + "/ui/object?survey=ztf&id=ZTFwebgone");
        var d = _browser.Driver;
        var status = d.FindElement(By.Id("model-status"));
        Assert.Equal("false", status.GetDomAttribute("data-available"));
        Assert.Contains("retired-model/0.9.0/0123456789ab", status.GetDomProperty("textContent"), StringComparison.Ordinal);
        Assert.Contains("is not available", status.GetDomProperty("textContent"), StringComparison.Ordinal);
        Assert.Equal(3, d.FindElements(By.CssSelector("#lightcurve .pt")).Count);
        Assert.Empty(d.FindElements(By.CssSelector("#probabilities tbody tr")));
        AssertNoConsoleErrors();
    }

    // textContent, not Selenium's rendered text: rows of a closed <details> or a scrolled table count too.
    // The overview re-renders on every server-sent update (each second): an element found may be replaced before it is
    // read, so a stale one is looked up again.
    private static string Text(ISearchContext d, string css)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (d.FindElement(By.CssSelector(css)).GetDomProperty("textContent") ?? string.Empty).Trim();
            }
            catch (StaleElementReferenceException) when (attempt < 5)
            {
            }
        }
    }

    private static double Number(ISearchContext d, string css)
    {
        var text = Text(d, css).Replace(",", string.Empty, StringComparison.Ordinal).Replace("ms", string.Empty, StringComparison.Ordinal).Replace(" s", string.Empty, StringComparison.Ordinal).Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
    }

    private void AssertNoConsoleErrors()
    {
        var errors = _browser.ConsoleMessages().Where(m => m.Level >= LogLevel.Warning).Select(m => m.Message).ToList();
        Assert.True(errors.Count == 0, "console: " + string.Join("\n", errors));
    }
}
