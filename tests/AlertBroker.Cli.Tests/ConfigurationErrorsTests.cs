using Microsoft.Extensions.Configuration;

namespace AlertBroker.Cli.Tests;

public sealed class ConfigurationErrorsTests
{
    private sealed class Settings
    {
        public DayOfWeek? Day { get; set; }

        public TimeSpan Wait { get; set; }

        public double Ratio { get; set; }

        public Guid Id { get; set; }
    }

    [Theory]
    [InlineData("Day", "Someday", "S:Day: 'Someday' is not one of Sunday, Monday, Tuesday, Wednesday, Thursday, Friday or Saturday")]
    [InlineData("Wait", "soon", "S:Wait: 'soon' is not a time span")]
    [InlineData("Ratio", "half", "S:Ratio: 'half' is not a number")]
    [InlineData("Id", "here", "S:Id: 'here' cannot be read as Guid")]
    public void Describe_BinderConversionFailure_NamesKeyValueAndWhatIsAccepted(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["S:" + key] = value }).Build();

        var e = Assert.ThrowsAny<InvalidOperationException>(() => configuration.GetSection("S").Get<Settings>());

        Assert.True(ConfigurationErrors.IsConversionFailure(e), e.Message);
        Assert.StartsWith(expected, ConfigurationErrors.Describe(e), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_OtherMessage_IsLeftAsItIs()
    {
        var e = new InvalidOperationException("something else");

        Assert.False(ConfigurationErrors.IsConversionFailure(e));
        Assert.Equal("something else", ConfigurationErrors.Describe(e));
    }
}
