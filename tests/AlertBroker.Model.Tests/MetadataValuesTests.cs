using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Tests;

/// <summary>The one rule for metadata values the trainer and the worker share.</summary>
public sealed class MetadataValuesTests
{
    [Theory]
    [InlineData(0.0, true)]
    [InlineData(0.05, true)]
    [InlineData(15.0, true)]
    [InlineData(15.01, false)]
    [InlineData(99.0, false)]
    [InlineData(-0.001, false)]
    [InlineData(-1.0, false)]
    [InlineData(-99.0, false)]
    [InlineData(1e300, false)]
    [InlineData(double.NaN, false)]
    [InlineData(double.PositiveInfinity, false)]
    public void HostRedshift_FromZeroToFifteen(double value, bool usable)
    {
        Assert.Equal(usable, MetadataValues.IsUsable(MetadataSources.HostRedshift, value));
        Assert.Equal(usable ? value : double.NaN, MetadataValues.Redshift(value));
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(0.03, true)]
    [InlineData(10.0, true)]
    [InlineData(10.5, false)]
    [InlineData(-0.01, false)]
    [InlineData(-99.0, false)]
    [InlineData(double.NegativeInfinity, false)]
    public void MilkyWayEbv_FromZeroToTen(double value, bool usable)
    {
        Assert.Equal(usable, MetadataValues.IsUsable(MetadataSources.MilkyWayEbv, value));
        Assert.Equal(usable ? value : double.NaN, MetadataValues.MilkyWayEbv(value));
    }

    // Another model's own source (an external model's host_mass, say): any value that stays finite as a float input.
    [Theory]
    [InlineData(-99.0, true)]
    [InlineData(3.4e38, true)]
    [InlineData(-3.4e38, true)]
    [InlineData(1e39, false)]
    [InlineData(-1e300, false)]
    [InlineData(double.NaN, false)]
    public void OtherSource_FiniteInSinglePrecision(double value, bool usable)
    {
        Assert.Equal(usable, MetadataValues.IsUsable("host_mass", value));
        Assert.Equal(usable, float.IsFinite((float)value) && !double.IsNaN(value));
    }
}
