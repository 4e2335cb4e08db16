using AlertBroker.Model.Network;

namespace AlertBroker.Model.Tests;

internal static class TestData
{
    public static GruClassifierConfig Config(int features, int meta, int hidden, int layers, int classes) => new()
    {
        InputFeatures = features,
        MetaFeatures = meta,
        HiddenSize = hidden,
        Layers = layers,
        DenseSize = 12,
        MetaDenseSize = 5,
        MergeSize = 11,
        LatentSize = 9,
        Classes = classes,
    };

    /// <summary>The configurations the equivalence tests run: with and without metadata, one and two layers.</summary>
    public static TheoryData<int, int, int, int, int> Configs => new()
    {
        { 6, 0, 8, 1, 3 },
        { 6, 2, 8, 2, 5 },
        { 4, 3, 16, 2, 4 },
        { 3, 0, 5, 3, 2 },
    };

    public static float[] Uniform(Random random, int count, float scale = 1f)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ((float)random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 1e-5f, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var diff = MathF.Abs(expected[i] - actual[i]);
            if (!(diff <= tolerance))
            {
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (|diff| {diff:E2} > {tolerance:E0})");
            }
        }
    }
}
