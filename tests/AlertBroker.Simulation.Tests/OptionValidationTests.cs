using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Tests;

/// <summary>Simulation options that cannot be simulated are refused with one line, and class weights are normalised safely.</summary>
public sealed class OptionValidationTests
{
    // Summed first, 1e308 + 1e308 was infinity: every cumulative fraction 0, and every object the last class (20 TDEs).
    [Fact]
    public void ExplicitMix_WeightsNearDoubleMax_SplitAsGiven()
    {
        var weights = new double[TransientClasses.RealSetClasses.Count];
        weights[0] = 1e308;
        weights[1] = 1e308;
        var simulator = new LightCurveSimulator(new SimulationOptions { ClassMix = ClassMixKind.Explicit, ClassFractions = weights });

        Assert.Equal(0.5, simulator.ClassFractions[0], 12);
        Assert.Equal(0.5, simulator.ClassFractions[1], 12);
        Assert.All(simulator.ClassFractions.Skip(2), f => Assert.Equal(0, f));
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    [InlineData(-1.0)]
    public void ExplicitMix_WeightNotFiniteOrNegative_Refused(double weight)
    {
        var weights = new double[TransientClasses.RealSetClasses.Count];
        weights[0] = weight;
        weights[1] = 1;

        var e = Assert.Throws<ArgumentException>(() => new LightCurveSimulator(new SimulationOptions { ClassMix = ClassMixKind.Explicit, ClassFractions = weights }));

        Assert.Contains("class fractions must be finite and non-negative", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN, 0, 0, "extra scatter")]
    [InlineData(-1, 0, 0, "extra scatter")]
    [InlineData(0, 2, 0, "outlier fraction")]
    [InlineData(0, 0, 1, "missing-epoch fraction")]
    [InlineData(0, 0, double.NaN, "missing-epoch fraction")]
    public void Realism_OutOfRange_Refused(double scatter, double outliers, double missing, string named)
    {
        var realism = new RealismOptions(scatter, outliers, 8, missing);

        var e = Assert.Throws<ArgumentException>(() => new LightCurveSimulator(new SimulationOptions { Realism = realism }));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-100_000)]
    [InlineData(1e12)]
    [InlineData(58_029)]
    [InlineData(63_000)]
    public void AlertStream_StartOutsideTheDecodersWindow_Refused(double start)
    {
        var options = new AlertStreamOptions { Simulation = new SimulationOptions { Survey = ZtfSurvey.Model, ClassMix = ClassMixKind.Natural, MinDetections = 1 }, StartMjd = start };

        var e = Assert.Throws<ArgumentException>(() => new AlertStreamSimulator(options));

        Assert.Contains("the first night must be MJD 58030 to 62999", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AlertStream_StartMjdRange_LeavesRoomForHistoryAndNights()
    {
        Assert.Equal((58_030.0, 62_990.0), AlertStreamSimulator.StartMjdRange(ZtfSurvey.Model, 10));
        Assert.Equal((60_365.0, 65_999.0), AlertStreamSimulator.StartMjdRange(LsstSurvey.Model, 1));
    }

    [Theory]
    [InlineData("../../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    public void CsvWriter_PrefixThatIsAPath_Refused(string prefix)
    {
        var dir = Directory.CreateTempSubdirectory("ab-prefix-").FullName;
        try
        {
            Assert.Throws<ArgumentException>(() => new LabelledCsvWriter(dir, prefix));
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
