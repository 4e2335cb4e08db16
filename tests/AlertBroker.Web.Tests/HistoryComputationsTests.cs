using AlertBroker.Alerts;
using AlertBroker.State;

namespace AlertBroker.Web.Tests;

/// <summary>The object pages' history computations: kept while the object is unchanged, and a bounded number at once.</summary>
public sealed class HistoryComputationsTests
{
    private static readonly ObjectKey A = new(Survey.Ztf, "ZTF26a");
    private static readonly ObjectKey B = new(Survey.Ztf, "ZTF26b");

    private static HistoryDto Dto(ObjectKey key, string note) => new(key.SurveyName, key.ObjectId, "m", true, note, null, ["x"], [], null);

    [Fact]
    public async Task Get_SameObjectVersionAndModel_RunsOnce_AChangeRunsAgain()
    {
        using var histories = new HistoryComputations(slots: 2, capacity: 2, wait: TimeSpan.FromSeconds(10));

        var first = await histories.GetAsync(A, 3, "m@1", () => Dto(A, "run 1"), CancellationToken.None);
        var again = await histories.GetAsync(A, 3, "m@1", () => Dto(A, "run 2"), CancellationToken.None);
        Assert.Same(first, again);
        Assert.Equal(1, histories.Runs);

        // A new stored version (the object had an alert) or another model is another history.
        Assert.Equal("run 3", (await histories.GetAsync(A, 4, "m@1", () => Dto(A, "run 3"), CancellationToken.None))!.Source);
        Assert.Equal("run 4", (await histories.GetAsync(A, 4, "m@2", () => Dto(A, "run 4"), CancellationToken.None))!.Source);
        Assert.Equal(3, histories.Runs);

        // Only the last two are kept.
        Assert.Equal("run 5", (await histories.GetAsync(A, 3, "m@1", () => Dto(A, "run 5"), CancellationToken.None))!.Source);
        Assert.Equal(4, histories.Runs);
    }

    [Fact]
    public async Task Get_AllSlotsBusy_AnswersNullAfterTheWait_ThenRunsWhenOneFrees()
    {
        using var histories = new HistoryComputations(slots: 1, capacity: 0, wait: TimeSpan.FromMilliseconds(200));
        using var release = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = Task.Run(() => histories.GetAsync(A, 1, "m", () =>
        {
            started.SetResult();
            release.Wait(TimeSpan.FromSeconds(30));
            return Dto(A, "slow");
        }, CancellationToken.None));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(await histories.GetAsync(B, 1, "m", () => Dto(B, "refused"), CancellationToken.None));

        release.Set();
        Assert.Equal("slow", (await busy.WaitAsync(TimeSpan.FromSeconds(30)))!.Source);
        Assert.Equal("after", (await histories.GetAsync(B, 1, "m", () => Dto(B, "after"), CancellationToken.None))!.Source);
        Assert.Equal(2, histories.Runs);
    }
}
