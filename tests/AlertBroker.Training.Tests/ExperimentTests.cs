using AlertBroker.Training.Experiments;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

public sealed class ExperimentTests
{
    [Fact]
    public void Sizes_CountsAndFractions_AreSortedDistinctAndEndAtThePool()
    {
        Assert.Equal([100, 200, 337, 674, 1123], TransferExperiment.Sizes([100, 200, 0.3, 0.6, 1.0], 1123));
        Assert.Equal([45, 100, 150], TransferExperiment.Sizes([100, 200, 0.3, 1.0], 150));
    }

    [Fact]
    public void AtDay_PicksTheLastStepUpToTheDay()
    {
        var data = TestNetworks.RandomData([3, 1], 4, 2, 1);
        // Days of steps are 0, 1, 2 (see EncodedDataset.FromArrays).
        float[][] predictions = [[0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f], [0.4f, 0.6f]];
        var at1 = Predictor.AtDay(data, predictions, 1.5, out var present);
        Assert.Equal([true, true], present);
        Assert.Equal(0.8f, at1[0]);
        Assert.Equal(0.4f, at1[2]);
        var before = Predictor.AtDay(data, predictions, -1, out present);
        Assert.Equal([false, false], present);
        Assert.Equal(0f, before[0]);
    }
}
