using AlertBroker.Model.Network;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

/// <summary><see cref="ClassPriors"/>: priors normalised safely at double's extremes; nothing that would make a bias of ±∞ or NaN.</summary>
public sealed class ClassPriorsTests
{
    private static readonly string[] s_classes = ["A", "B", "C"];

    // Summed first, 1e308 + 1e308 was infinity: every prior 0, every bias −∞.
    [Fact]
    public void Parse_ValuesNearDoubleMax_NormalisedToFiniteShares()
    {
        var priors = ClassPriors.Parse("A=1e308,B=1e308,C=1e308", s_classes);

        foreach (var c in s_classes)
        {
            Assert.Equal(1.0 / 3, priors[c], 12);
        }
    }

    [Theory]
    [InlineData("A=Infinity,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not Infinity")]
    [InlineData("A=NaN,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not NaN")]
    [InlineData("A=1,C=1", "no positive prior for class 'B'")]
    [InlineData("A=0,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not 0")]
    [InlineData("A=-2,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not -2")]
    [InlineData("A=1e308,B=1e-320,C=1", "the prior for class 'B' is too small beside the others")]
    public void Parse_UnusableValue_RefusedNamingTheClass(string text, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => ClassPriors.Parse(text, s_classes));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adjust_ExtremeButValidPriors_BiasStaysFinite()
    {
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 4 }, 1);
        var training = ClassPriors.Parse("A=1,B=1,C=1", s_classes);
        var deployment = ClassPriors.Parse("A=1e308,B=1e308,C=1", s_classes);

        var adjusted = ClassPriors.Adjust(weights, s_classes, training, deployment);

        Assert.All(adjusted.Output.Bias, b => Assert.True(float.IsFinite(b)));
    }

    [Fact]
    public void Adjust_ZeroPriorThatBypassedParse_Refused()
    {
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 4 }, 1);
        var training = ClassPriors.Parse("A=1,B=1,C=1", s_classes);
        var deployment = new Dictionary<string, double> { ["A"] = 0, ["B"] = 0.5, ["C"] = 0.5 };

        var e = Assert.Throws<ArgumentException>(() => ClassPriors.Adjust(weights, s_classes, training, deployment));

        Assert.Contains("do not give a finite output bias", e.Message, StringComparison.Ordinal);
    }
}
