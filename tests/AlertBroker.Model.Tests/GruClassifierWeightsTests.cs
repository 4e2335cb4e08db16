using AlertBroker.Model.Network;

namespace AlertBroker.Model.Tests;

public class GruClassifierWeightsTests
{
    private static readonly GruClassifierConfig s_config = TestData.Config(6, 2, 8, 2, 5);

    [Fact]
    public void Random_SameSeed_GivesIdenticalWeights()
    {
        var a = GruClassifierWeights.Random(s_config, 123);
        var b = GruClassifierWeights.Random(s_config, 123);

        for (var i = 0; i < a.Parameters.Count; i++)
        {
            Assert.Equal(a.Parameters[i].Values, b.Parameters[i].Values);
        }
    }

    [Fact]
    public void Random_DifferentSeeds_GiveDifferentWeights()
    {
        var a = GruClassifierWeights.Random(s_config, 1);
        var b = GruClassifierWeights.Random(s_config, 2);

        Assert.NotEqual(a.GruLayers[0].WeightIh, b.GruLayers[0].WeightIh);
    }

    [Fact]
    public void Random_Values_StayWithinPyTorchDefaultBounds()
    {
        var weights = GruClassifierWeights.Random(s_config, 5);

        var gruBound = 1f / MathF.Sqrt(s_config.HiddenSize);
        Assert.All(weights.GruLayers[1].WeightHh, v => Assert.InRange(v, -gruBound, gruBound));
        var latentBound = 1f / MathF.Sqrt(s_config.MergeSize);
        Assert.All(weights.Latent.Weight, v => Assert.InRange(v, -latentBound, latentBound));
        Assert.Contains(weights.Latent.Weight, v => MathF.Abs(v) > latentBound / 2);
    }

    [Fact]
    public void Parameters_DefaultNetwork_UsePyTorchNamesAndShapes()
    {
        var config = new GruClassifierConfig { InputFeatures = 6, MetaFeatures = 2, Classes = 5 };
        var weights = new GruClassifierWeights(config);

        Assert.Equal(
            [
                "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0",
                "gru.weight_ih_l1", "gru.weight_hh_l1", "gru.bias_ih_l1", "gru.bias_hh_l1",
                "step_dense.weight", "step_dense.bias", "meta_dense.weight", "meta_dense.bias",
                "merge.weight", "merge.bias", "latent.weight", "latent.bias", "output.weight", "output.bias",
            ],
            weights.Parameters.Select(p => p.Name));
        Assert.Equal([300, 6], weights.GetParameter("gru.weight_ih_l0").Shape);
        Assert.Equal([300, 100], weights.GetParameter("gru.weight_ih_l1").Shape);
        Assert.Equal([100, 110], weights.GetParameter("merge.weight").Shape);
        Assert.Equal([5, 100], weights.GetParameter("output.weight").Shape);
        Assert.All(weights.Parameters, p => Assert.Equal(p.Shape.Aggregate(1, (a, b) => a * b), p.Values.Length));
    }

    [Fact]
    public void Parameters_NoMetadata_HaveNoMetaDenseAndNarrowerMerge()
    {
        var weights = new GruClassifierWeights(TestData.Config(6, 0, 8, 1, 3));

        Assert.Null(weights.MetaDense);
        Assert.DoesNotContain(weights.Parameters, p => p.Name.StartsWith("meta_dense", StringComparison.Ordinal));
        Assert.Equal(12, weights.Merge.InputSize);
    }

    [Fact]
    public void Parameters_Values_AreTheLiveArrays()
    {
        var weights = new GruClassifierWeights(s_config);

        weights.GetParameter("output.bias").Values[2] = 7f;

        Assert.Equal(7f, weights.Output.Bias[2]);
    }

    [Fact]
    public void SaveLoad_RoundTrip_RestoresConfigAndEveryValue()
    {
        var weights = GruClassifierWeights.Random(s_config, 77);
        using var stream = new MemoryStream();

        weights.Save(stream);
        stream.Position = 0;
        var loaded = GruClassifierWeights.Load(stream);

        Assert.Equal(weights.Config, loaded.Config);
        for (var i = 0; i < weights.Parameters.Count; i++)
        {
            Assert.Equal(weights.Parameters[i].Values, loaded.Parameters[i].Values);
        }
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsInvalidDataException()
    {
        using var stream = new MemoryStream();
        GruClassifierWeights.Random(s_config, 1).Save(stream);
        var bytes = stream.ToArray();

        Assert.Throws<InvalidDataException>(() => GruClassifierWeights.Load(new MemoryStream(bytes[..(bytes.Length / 2)])));
        Assert.Throws<InvalidDataException>(() => GruClassifierWeights.Load(new MemoryStream(bytes[..10])));
    }

    [Fact]
    public void Load_WrongMagic_ThrowsInvalidDataException() =>
        Assert.Throws<InvalidDataException>(() => GruClassifierWeights.Load(new MemoryStream(new byte[64])));

    [Fact]
    public void Clone_Copy_IsIndependentOfOriginal()
    {
        var weights = GruClassifierWeights.Random(s_config, 9);
        var copy = weights.Clone();

        copy.GruLayers[0].BiasHh[0] += 1;

        Assert.NotEqual(weights.GruLayers[0].BiasHh[0], copy.GruLayers[0].BiasHh[0]);
        Assert.Equal(weights.Latent.Weight, copy.Latent.Weight);
    }

    [Fact]
    public void Constructor_InvalidConfig_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => new GruClassifierWeights(TestData.Config(0, 0, 8, 1, 3)));
}
