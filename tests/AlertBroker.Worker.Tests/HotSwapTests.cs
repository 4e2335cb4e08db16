using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;

namespace AlertBroker.Worker.Tests;

/// <summary>Model promotion reaching a worker between batches, through the registry and <see cref="RegistryModelSource"/>.</summary>
public sealed class HotSwapTests : IDisposable
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private readonly string _root = Directory.CreateTempSubdirectory("ab-hotswap-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [OnnxFact]
    public async Task Promotion_BetweenBatches_TagsEveryOutputWithItsModel_AndRecomputesOldStates()
    {
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        var v1Dir = Export("1", 11);
        var v2Dir = Export("2", 22);
        await Push(registry, v1Dir);
        await Push(registry, v2Dir);
        var promoter = new ModelPromoter(registry);
        Assert.True((await promoter.PromoteAsync(new ModelRef("swap", "1"), new PromotionOptions())).Promoted);

        await using var source = new RegistryModelSource(new ActiveModelWatcher(registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1) }));
        await source.Watcher.StartAsync();
        var processor = new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), source.ForNextBatch, new ClassificationCodec());
        var alerts = SyntheticZtfAlerts.Generate(objects: 6, alertsPerObject: 3, seed: 5);
        var byRound = alerts.GroupBy(a => a.ObjectId).SelectMany(g => g.Select((a, i) => (Round: i, Alert: a))).ToLookup(x => x.Round, x => x.Alert);

        var first = await processor.ProcessAsync(PipelineTestKit.Inputs(byRound[0]));
        Assert.All(first.Outputs, o => Assert.Equal("1", o.Classification.ModelVersion));

        // Promote while the worker is idle between batches; the next batch is the first to see it.
        Assert.True((await promoter.PromoteAsync(new ModelRef("swap", "2"), new PromotionOptions())).Promoted);
        await source.Watcher.CheckNowAsync();
        var second = await processor.ProcessAsync(PipelineTestKit.Inputs(byRound[1]));
        var third = await processor.ProcessAsync(PipelineTestKit.Inputs(byRound[2]));

        Assert.All(second.Outputs, o => Assert.Equal("2", o.Classification.ModelVersion));
        Assert.All(third.Outputs, o => Assert.Equal("2", o.Classification.ModelVersion));

        // The states v1 left behind cannot be continued by v2: the whole light curve is re-run, then v2 goes incremental.
        Assert.All(second.Outputs.Where(o => o.Classification.StepCount > 1), o => Assert.Equal(ScoringPath.Full, o.Classification.Scoring));
        Assert.Contains(third.Outputs, o => o.Classification.Scoring == ScoringPath.Incremental);

        // And v2's numbers after the swap are the numbers v2 gives on the same alerts from scratch.
        using var v2 = ActiveModel.Load(v2Dir);
        var fresh = PipelineTestKit.Processor(new InMemoryObjectStateStore(), v2);
        await fresh.ProcessAsync(PipelineTestKit.Inputs(byRound[0]));
        var reference = await fresh.ProcessAsync(PipelineTestKit.Inputs(byRound[1]));
        foreach (var o in second.Outputs)
        {
            var r = reference.Outputs.Single(x => x.Classification.SourceId == o.Classification.SourceId);
            for (var c = 0; c < o.Classification.Probabilities.Length; c++)
            {
                Assert.Equal(r.Classification.Probabilities[c], o.Classification.Probabilities[c], 1e-5f);
            }
        }
    }

    [OnnxTheory]
    [InlineData("truncated")]
    [InlineData("unknown-encoding")]
    [InlineData("wrong-shapes")]
    public async Task BrokenPromotion_IsRefusedByTheWatcher_AndScoringContinuesWithTheCurrentModel(string kind)
    {
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        await Push(registry, Export("1", 11));
        var good = await registry.GetAsync(new ModelRef("swap", "1"));
        await new ModelPromoter(registry).PromoteAsync(good!.Ref, new PromotionOptions());
        await using var source = new RegistryModelSource(new ActiveModelWatcher(registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1) }));
        await source.Watcher.StartAsync();
        var processor = new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), source.ForNextBatch, new ClassificationCodec());

        // A broken package whose manifest hash matches its bytes: pushed, then made active behind the gate's back.
        var dir = Export("2", 22);
        var onnx = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(dir, "model.json")));
        (manifest, onnx) = kind switch
        {
            "truncated" => (manifest with { Onnx = manifest.Onnx with { Sha256 = ModelPackage.ComputeSha256(onnx[..(onnx.Length / 2)]) } }, onnx[..(onnx.Length / 2)]),
            "unknown-encoding" => (manifest with { Encoding = manifest.Encoding with { Name = "another-encoding" } }, onnx),
            _ => (manifest with { Network = manifest.Network with { Hidden = 32 } }, onnx),
        };
        var broken = await registry.PushAsync(new ModelPackageBytes(ModelPackage.SerializeManifest(manifest), onnx), "test");
        var current = await registry.GetActiveAsync("ztf");
        var next = new ActivePointer { Name = broken.Name, Version = broken.Version, Sha256 = broken.Sha256, SinceUtc = DateTimeOffset.UtcNow };
        await registry.SetActiveAsync("ztf", current, next, new PromotionRecord { Action = "promote", Utc = DateTimeOffset.UtcNow, To = "swap@2", By = "test" });
        await source.Watcher.CheckNowAsync();

        var result = await processor.ProcessAsync(PipelineTestKit.Inputs(SyntheticZtfAlerts.Generate(objects: 4, alertsPerObject: 1, seed: 9)));

        Assert.Equal(4, result.Outputs.Count);
        Assert.All(result.Outputs, o => Assert.Equal("1", o.Classification.ModelVersion));
        Assert.Contains("swap@2", source.Watcher.LastError, StringComparison.Ordinal);
    }

    private string Export(string version, int seed) =>
        TestModelPackages.Export(Path.Combine(_root, "export", version), "swap", version, seed, hidden: 16, classes: s_classes);

    private static Task Push(IModelRegistry registry, string dir) =>
        registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "test");
}

/// <summary>Marks a theory that runs the model through ONNX Runtime (shipped with its package: never skipped).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OnnxTheoryAttribute : TheoryAttribute
{
}
