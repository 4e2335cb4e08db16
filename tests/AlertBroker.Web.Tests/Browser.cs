using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace AlertBroker.Web.Tests;

/// <summary>
/// Headless Chromium from Debian (<c>chromium</c>, driven through Debian's <c>chromedriver</c>, both installed by
/// eng/setup.sh), one browser per test class. Nothing is downloaded: the browser and the driver are given by path, so
/// Selenium Manager never runs.
/// </summary>
public sealed class BrowserFixture : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private readonly Lazy<ChromeDriver> _driver;
    private readonly string _profile = Path.Combine(Path.GetTempPath(), "ab-chromium-" + Guid.NewGuid().ToString("N")[..8]);

    public BrowserFixture()
    {
        _driver = new Lazy<ChromeDriver>(Start);
    }

    /// <summary>Why there is no browser, or null.</summary>
    public static string? Unavailable =>
        File.Exists(Environment.GetEnvironmentVariable("ALERTBROKER_CHROMIUM") ?? ChromiumPath) && File.Exists(Environment.GetEnvironmentVariable("ALERTBROKER_CHROMEDRIVER") ?? DriverPath)
            ? null
            : "Debian's chromium and chromium-driver are not installed (run eng/setup.sh)";

    public ChromeDriver Driver => _driver.Value;

    /// <summary>Loads a page and waits until its script has rendered it (<c>body[data-loaded]</c>).</summary>
    public void Open(string url)
    {
        Driver.Navigate().GoToUrl(url);
        new WebDriverWait(Driver, TimeSpan.FromSeconds(30)).Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-loaded") == "true");
    }

    /// <summary>The browser console's messages since the last call (chromedriver hands each out once).</summary>
    public IReadOnlyList<LogEntry> ConsoleMessages() => Driver.Manage().Logs.GetLog(LogType.Browser);

    public object? Script(string script, params object[] args) => Driver.ExecuteScript(script, args);

    /// <summary>
    /// Saves a screenshot of the window (height fitted to the page, at most <paramref name="maxHeight"/>) as
    /// <c>screenshots/NAME.png</c> in the test output, and into <c>docs/images/</c> when ALERTBROKER_UPDATE_SCREENSHOTS=1.
    /// </summary>
    public string Screenshot(string name, int maxHeight = 1500)
    {
        var height = Convert.ToInt32(Script("return Math.ceil(document.documentElement.scrollHeight)"), System.Globalization.CultureInfo.InvariantCulture);
        Driver.Manage().Window.Size = new System.Drawing.Size(1100, Math.Min(maxHeight, Math.Max(600, height)) + 120);
        Thread.Sleep(200);
        var shot = Driver.GetScreenshot();
        var dir = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".png");
        shot.SaveAsFile(path);
        if (Environment.GetEnvironmentVariable("ALERTBROKER_UPDATE_SCREENSHOTS") == "1" && SharedData.RepositoryRoot() is { } root)
        {
            shot.SaveAsFile(Path.Combine(root, "docs", "images", name + ".png"));
        }

        Driver.Manage().Window.Size = new System.Drawing.Size(1100, 1400);
        return path;
    }

    public void Dispose()
    {
        if (_driver.IsValueCreated)
        {
            _driver.Value.Quit();
        }

        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private ChromeDriver Start()
    {
        var driverPath = Environment.GetEnvironmentVariable("ALERTBROKER_CHROMEDRIVER") ?? DriverPath;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driverPath)!, Path.GetFileName(driverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Environment.GetEnvironmentVariable("ALERTBROKER_CHROMIUM") ?? ChromiumPath };

        // Without the background-networking flags Chromium reaches out to Google services, which this network refuses.
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=" + _profile, "--window-size=1100,1400", "--force-device-scale-factor=1",
            "--hide-scrollbars");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}

/// <summary>A test that needs the browser and the stream; skipped with the reason when either is missing.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (BrowserFixture.Unavailable is { } browser)
        {
            Skip = browser;
        }
        else if (!SharedData.Available)
        {
            Skip = "../shared (the real alert samples) is not available";
        }
    }
}
