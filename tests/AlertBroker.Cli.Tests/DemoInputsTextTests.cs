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

/// <summary>Data printed on a terminal by inspect and consume: control characters escaped.</summary>
public sealed class PrintableTests
{
    [Fact]
    public void ControlCharacters_AreEscaped_TheRestKept()
    {
        // Until 2026-12-07 a field holding ESC and a newline coloured the terminal and forged a line.
        Assert.Equal("ZTF\\u000A\\u001B[31mINJECTED warn: x\\u009B é", CliHelpers.Printable("ZTF\n\u001b[31mINJECTED warn: x\u009b é"));
        const string plain = "ztf-bts@2.7.0 SNIa 0.91 µJy";
        Assert.Same(plain, CliHelpers.Printable(plain));
    }
}
