using AlertBroker.Model.Network;
using AlertBroker.Training.Data;

namespace AlertBroker.Training.Tests;

internal static class TestNetworks
{
    public static GruClassifierConfig Tiny(int meta = 4, int layers = 2, int classes = 3, int hidden = 4) => new()
    {
        InputFeatures = 6,
        MetaFeatures = meta,
        HiddenSize = hidden,
        Layers = layers,
        DenseSize = 3,
        MetaDenseSize = 2,
        MergeSize = 5,
        LatentSize = 4,
        Classes = classes,
    };

    /// <summary>Random sequences of the given lengths (6 features each), random metadata and labels.</summary>
    public static EncodedDataset RandomData(int[] lengths, int meta, int classes, int seed)
    {
        var random = new Random(seed);
        var steps = new float[lengths.Length][];
        var labels = new int[lengths.Length];
        var metaValues = new float[lengths.Length * meta];
        for (var i = 0; i < lengths.Length; i++)
        {
            steps[i] = new float[lengths[i] * 6];
            for (var j = 0; j < steps[i].Length; j++)
            {
                steps[i][j] = (float)((random.NextDouble() * 2) - 1);
            }

            labels[i] = i % classes;
        }

        for (var j = 0; j < metaValues.Length; j++)
        {
            metaValues[j] = (float)random.NextDouble();
        }

        var names = new string[classes];
        for (var c = 0; c < classes; c++)
        {
            names[c] = "C" + c;
        }

        return EncodedDataset.FromArrays(names, steps, metaValues, labels, meta);
    }

    /// <summary>A random probability distribution over the classes for every step of every object (soft targets).</summary>
    public static float[][] RandomDistributions(EncodedDataset data, int seed)
    {
        var random = new Random(seed);
        var k = data.Classes.Count;
        var result = new float[data.Count][];
        for (var i = 0; i < data.Count; i++)
        {
            result[i] = new float[data.Lengths[i] * k];
            for (var row = 0; row < result[i].Length; row += k)
            {
                double sum = 0;
                for (var c = 0; c < k; c++)
                {
                    result[i][row + c] = (float)(0.05 + random.NextDouble());
                    sum += result[i][row + c];
                }

                for (var c = 0; c < k; c++)
                {
                    result[i][row + c] = (float)(result[i][row + c] / sum);
                }
            }
        }

        return result;
    }
}
