using AlertBroker.Cli.Commands;

namespace AlertBroker.Cli.Tests;

/// <summary>The demo's input line names where its archived alerts came from, or says that the samples were not found.</summary>
public sealed class DemoInputsTextTests
{
    [Fact]
    public void NoInputPaths_SaysTheSamplesWereNotFound()
    {
        // Until 2026-12-07 a demo run outside a checkout printed "0 archived alerts from ;".
        var text = DemoCommand.InputsText([]);
        Assert.Contains("../shared/alert-samples was not found", text, StringComparison.Ordinal);
        Assert.DoesNotContain("from", text, StringComparison.Ordinal);
    }

    [Fact]
    public void InputPaths_AreNamed()
    {
        Assert.Equal("from a, b/c", DemoCommand.InputsText(["a", "b/c"]));
    }
}
