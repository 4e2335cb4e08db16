using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// A model whose network gives NaN (a diverged training run, a damaged export, a graph that overflows on some light curves):
/// refused when loaded by path, and if served all the same — as a model that fails only on some inputs would be — no NaN
/// leaves the worker: each alert is published with its model, no probabilities and the problem as the reason, and counted.
/// </summary>
public sealed class InvalidOutputTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-invalid-output-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [OnnxFact]
    public void AModelThatGivesNaN_IsRefusedWhenLoadedByPath_AsInvalidOutput()
    {
        // +∞ in the output bias: every file check passes, the smoke batch's first output is NaN.
        var dir = BrokenModelPackages.Export(Path.Combine(_root, "inf"), float.PositiveInfinity);

        var e = Assert.Throws<ModelPackageException>(() => ActiveModel.Load(dir));

        var problem = Assert.Single(e.Problems);
        Assert.Equal(ModelPackageProblemKind.InvalidOutput, problem.Kind);
        Assert.Contains("class 0 is NaN", problem.Message, StringComparison.Ordinal);
    }

    [OnnxTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void ANaNWeight_IsRefusedByEveryLoad_EvenWhereTheOutputWouldLookValid(bool recurrent)
    {
        // In the recurrent weights, ONNX Runtime's clamped activations turn the NaN into finite numbers: the smoke batch
        // passes, and only the weights show it.
        var dir = BrokenModelPackages.Export(Path.Combine(_root, "nan"), float.NaN, recurrent);

        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, StepEncodings.Ids));

        var problem = Assert.Single(e.Problems);
        Assert.Equal(ModelPackageProblemKind.InvalidOutput, problem.Kind);
        Assert.Matches(recurrent ? @"^the weight \S*gru\S*1\S*\[\d+\] is NaN" : @"^the weight output\.bias\[0\] is NaN", problem.Message);
    }

    [OnnxFact]
    public async Task AModelThatGivesNaN_ServedAnyway_PublishesNoProbabilities_ButAReason_AndEveryAlertIsCounted_ActiveAndShadow()
    {
        // Constructed without the load-time smoke batch, as a model that passes it but fails on some light curves would be.
        using var broken = new ActiveModel(ModelPackage.Load(BrokenModelPackages.Export(Path.Combine(_root, "inf"), float.PositiveInfinity), StepEncodings.Ids));
        var alerts = SyntheticZtfAlerts.Generate(objects: 6, alertsPerObject: 3, seed: 31);
        using var metrics = new WorkerMetrics();
        var invalid = RoutingTests.CountMeasurements("alertbroker.alerts.invalid_output", out var listener, metrics, tag: "model");
        using (listener)
        {
            // Active: the broken model. Shadow: the broken model beside a sound active one.
            var asActive = await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => ModelSet.Of(broken), new ClassificationCodec(), metrics) { Candidates = CandidateFilter.None }
                .ProcessAsync(Inputs(alerts));
            var asShadow = await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => ModelSet.Of(TestModels.A).WithShadows(new Dictionary<string, ActiveModel> { ["ztf"] = broken }), new ClassificationCodec(), metrics) { Candidates = CandidateFilter.None }
                .ProcessAsync(Inputs(alerts));

            Assert.Equal(alerts.Count, asActive.Outputs.Count);
            foreach (var o in asActive.Outputs.Concat(asShadow.ShadowOutputs))
            {
                var c = ClassificationCodec.Decode(o.Value);
                Assert.Equal("nan-model", c.ModelName);
                Assert.Equal(ScoringPath.None, c.Scoring);
                Assert.Empty(c.Probabilities);
                Assert.Null(c.TopClass);
                Assert.Equal("the model's output is not a probability distribution (class 0 is NaN): no probabilities", c.Reason);

                // What goes to the recent-classifications list and the web view serialises (it threw on NaN before).
                JsonSerializer.SerializeToUtf8Bytes(o.Classification, new JsonSerializerOptions(JsonSerializerDefaults.Web));
            }

            // The sound active model beside the broken shadow is untouched.
            Assert.All(asShadow.Outputs, o => Assert.Equal(TestModels.A.Classes.Length, ClassificationCodec.Decode(o.Value).Probabilities.Length));

            listener.RecordObservableInstruments();
            Assert.Equal(2 * alerts.Count, invalid["nan-model"]);
        }
    }
}
