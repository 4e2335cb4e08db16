using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Cli.Commands;
using AlertBroker.Model.Packaging;
using Spectre.Console;

namespace AlertBroker.Cli.Tests;

public sealed class ModelCommandsTests : IDisposable
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private readonly string _root = Directory.CreateTempSubdirectory("ab-models-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Inspect_ValidPackage_PrintsTheModelCard()
    {
        var dir = ExportRandomModel("card");
        var (exit, text) = RunInspect(dir);

        Assert.Equal(0, exit);
        Assert.Contains("test-gru", text, StringComparison.Ordinal);
        Assert.Contains("alertbroker-lc v1", text, StringComparison.Ordinal);
        Assert.Contains("SLSN-I", text, StringComparison.Ordinal);
        Assert.Contains(ModelPackage.ComputeSha256(File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_EvaluationJsonBeside_ShowsItsHeadline_UnreadableOneIsSaidSo()
    {
        var dir = ExportRandomModel("evaluated");
        Assert.DoesNotContain("evaluation.json", RunInspect(dir).Text, StringComparison.Ordinal);

        // As `evaluate --report DIR` writes it (trimmed to the fields the card reads).
        File.WriteAllText(Path.Combine(dir, "evaluation.json"), """
            {"model": "models/test-gru/1.0.0", "data": "some.csv (test part)", "objects": 482, "macroAuroc": 0.9324,
             "early": [{"days": 0, "macroAuroc": 0.4879}, {"days": 10, "macroAuroc": 0.7221}, {"days": 15, "macroAuroc": null}]}
            """);
        var (exit, text) = RunInspect(dir);
        Assert.Equal(0, exit);
        var line = ModelsCommand.EvaluationBeside(dir);
        Assert.Equal("macro AUROC 0.932 on whole light curves; 0 d 0.488, 10 d 0.722; 482 objects of some.csv (test part), evaluated as models/test-gru/1.0.0", line);
        Assert.Contains("macro AUROC 0.932", text, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(dir, "evaluation.json"), "{\"macroAuroc\": \"high\"}");
        Assert.StartsWith("present but not readable: ", ModelsCommand.EvaluationBeside(dir), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "evaluation.json"), "not json");
        Assert.StartsWith("present but not readable: ", ModelsCommand.EvaluationBeside(dir), StringComparison.Ordinal);
        Assert.Equal(0, RunInspect(dir).Exit);
    }

    // Found by the data-integrity review (2026-12-07): evaluate writes an undefined figure as null now, and wrote it as "NaN"
    // before; the card read a "NaN" macro AUROC as "present but not readable". Both read as undefined ("–").
    [Theory]
    [InlineData("null")]
    [InlineData("\"NaN\"")]
    public void Inspect_EvaluationJsonWithUndefinedFigures_NewAndOldSpelling_AreRead(string undefined)
    {
        var dir = ExportRandomModel("undefined-" + (undefined == "null" ? "null" : "nan"));
        File.WriteAllText(Path.Combine(dir, "evaluation.json"), """
            {"model": "m 1", "data": "d.csv (test part)", "objects": 3, "macroAuroc": UNDEFINED,
             "early": [{"days": 0, "macroAuroc": UNDEFINED}, {"days": 10, "macroAuroc": 0.75}]}
            """.Replace("UNDEFINED", undefined, StringComparison.Ordinal));

        Assert.Equal("macro AUROC – on whole light curves; 10 d 0.750; 3 objects of d.csv (test part), evaluated as m 1", ModelsCommand.EvaluationBeside(dir));
    }

    [Fact]
    public void Inspect_TamperedPackage_ListsTheProblemAndFails()
    {
        var dir = ExportRandomModel("tampered");
        var onnx = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        onnx[^10] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), onnx);

        var (exit, text) = RunInspect(dir);

        Assert.Equal(3, exit);
        Assert.Contains("invalid model package", text, StringComparison.Ordinal);
        Assert.Contains("sha", text, StringComparison.OrdinalIgnoreCase);
    }

    [SharedDataFact]
    public void Score_SampleAlerts_OneDistributionPerObject_IndependentOfBatching()
    {
        var dir = ExportRandomModel("score");
        var output = new StringWriter();
        var exit = ScoreCommand.Run(dir, [SharedData.Path("alert-samples", "ztf"), SharedData.Path("alert-samples", "lsst-real-v7_4")], jsonl: true, output, CancellationToken.None);

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(lines.Count, lines.Select(l => l.GetProperty("survey").GetString() + l.GetProperty("objectId").GetString()).Distinct().Count());
        Assert.True(lines.Count >= 50);
        foreach (var line in lines)
        {
            var sum = line.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetDouble());
            Assert.Equal(1.0, sum, 1e-4);
            Assert.Contains(line.GetProperty("topClass").GetString(), s_classes);
            Assert.True(line.GetProperty("steps").GetInt32() >= 1);

            // Every object is scored; each says whether its newest alert is a transient candidate, and why not.
            var candidate = line.GetProperty("candidate").GetBoolean();
            Assert.Equal(!candidate, line.TryGetProperty("candidateReason", out var reason));
            if (!candidate)
            {
                Assert.StartsWith("not a transient candidate: ", reason.GetString(), StringComparison.Ordinal);
            }
        }

        // The real Rubin samples hold both: candidates, and negative subtractions among the rest.
        var rubin = lines.Where(l => l.GetProperty("survey").GetString() == "lsst").ToList();
        Assert.Contains(rubin, l => l.GetProperty("candidate").GetBoolean());
        Assert.Contains(rubin, l => l.TryGetProperty("candidateReason", out var r) && r.GetString()!.Contains("negative difference flux", StringComparison.Ordinal));

        // The 63-detection ZTF 2.0 sample scored alone gives the numbers it got inside the batch.
        var alone = new StringWriter();
        ScoreCommand.Run(dir, [SharedData.Files("alert-samples/ztf").Single(f => f.Contains("472263571115095000", StringComparison.Ordinal))], jsonl: true, alone, CancellationToken.None);
        var single = JsonDocument.Parse(alone.ToString().Trim()).RootElement;
        var inBatch = lines.Single(l => l.GetProperty("objectId").GetString() == single.GetProperty("objectId").GetString());
        foreach (var p in single.GetProperty("probabilities").EnumerateObject())
        {
            Assert.Equal(p.Value.GetDouble(), inBatch.GetProperty("probabilities").GetProperty(p.Name).GetDouble(), 1e-5);
        }
    }

    [SharedDataFact]
    public void Score_AnObservationInSeveralAlerts_CountedOnce()
    {
        // Each alert repeats its object's earlier photometry; the observations column counted every copy (ZTF17aaajnnn:
        // 64 observations, 64 steps; the folder given twice: 128 observations, 64 steps).
        var dir = ExportRandomModel("score-twice");
        var folder = SharedData.Path("alert-samples", "ztf");
        var once = new StringWriter();
        var twice = new StringWriter();

        Assert.Equal(0, ScoreCommand.Run(dir, [folder], jsonl: true, once, CancellationToken.None));
        Assert.Equal(0, ScoreCommand.Run(dir, [folder, folder], jsonl: true, twice, CancellationToken.None));

        Assert.Equal(once.ToString(), twice.ToString());
        var rows = once.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(rows, r => r.GetProperty("observations").GetInt32() == 64 && r.GetProperty("steps").GetInt32() == 64);
    }

    [SharedDataFact]
    public async Task Score_RubinAlertsWithAZtfOnlyModel_WarnsOnceThatTheModelWasNotTrainedForTheSurvey()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "ztf-only", "1"), "test-gru", "1", seed: 7, classes: s_classes, surveys: ["ztf"]);

        var rubin = await AlertBrokerProcess.RunToEndAsync(["score", "--model", dir, "--jsonl", SharedData.Path("alert-samples", "lsst-real-v7_4")]);
        var ztf = await AlertBrokerProcess.RunToEndAsync(["score", "--model", dir, "--jsonl", SharedData.Path("alert-samples", "ztf")]);

        Assert.Equal(0, rubin.Code);
        var warning = Assert.Single(rubin.Stderr.Split('\n'), l => l.Contains("was not trained for the lsst survey", StringComparison.Ordinal));
        Assert.Contains("declares ztf", warning, StringComparison.Ordinal);
        Assert.NotEmpty(rubin.Stdout.Trim());
        Assert.Equal(0, ztf.Code);
        Assert.DoesNotContain("not trained for", ztf.Stderr, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void Score_MinDetections_CountsTheObjectsDetectionsAsRunDoes()
    {
        var dir = ExportRandomModel("score-min-detections");
        // A real Rubin alert that is a transient candidate, its packet carrying the object's earlier diaSources too.
        var alert = SharedData.Files("alert-samples/lsst-real-v7_4").Single(f => f.Contains("58804302898003989", StringComparison.Ordinal));
        JsonElement Scored(int minDetections)
        {
            var output = new StringWriter();
            Assert.Equal(0, ScoreCommand.Run(dir, [alert], jsonl: true, output, CancellationToken.None, minDetections: minDetections));
            return JsonDocument.Parse(output.ToString().Trim()).RootElement;
        }

        // Detections of positive flux, the ones a model is fed (the run's count too).
        var detections = ScoreCommand.Collect([alert], CancellationToken.None, out _).Values.Single().Observations
            .Where(o => o.Kind == ObservationKind.Detection && o.FluxMicroJy > 0).Select(o => o.SourceId).Distinct().Count();
        Assert.True(detections > 5);
        Assert.True(Scored(1).GetProperty("candidate").GetBoolean());
        Assert.True(Scored(detections).GetProperty("candidate").GetBoolean());
        var tooFew = Scored(detections + 1);
        Assert.False(tooFew.GetProperty("candidate").GetBoolean());
        Assert.Equal($"not classified yet: {detections} detection(s) of the object, fewer than {detections + 1}", tooFew.GetProperty("candidateReason").GetString());

        // The probabilities do not depend on the check (score scores every object).
        Assert.Equal(Scored(1).GetProperty("probabilities").ToString(), tooFew.GetProperty("probabilities").ToString());
    }

    [Fact]
    public void Score_DetectionsUpTo_CountsDistinctDetectionsAtOrBeforeTheTime()
    {
        List<Observation> observations =
        [
            new(1, 100, Passband.ZtfG, ObservationKind.Detection, 10, 1, 20),
            new(1, 100, Passband.ZtfG, ObservationKind.Detection, 10, 1, 20), // the same detection from a second alert
            new(2, 101, Passband.ZtfR, ObservationKind.Detection, 10, 1, 20),
            new(3, 101, Passband.ZtfR, ObservationKind.UpperLimit, float.NaN, 1, 20),
            new(4, 101, Passband.ZtfR, ObservationKind.Forced, 5, 1, 20),
            new(5, 103, Passband.ZtfG, ObservationKind.Detection, 10, 1, 20), // after the alert
        ];

        Assert.Equal(2, ScoreCommand.DetectionsUpTo(observations, 102));
        Assert.Equal(3, ScoreCommand.DetectionsUpTo(observations, 103));
        Assert.Equal(0, ScoreCommand.DetectionsUpTo(observations, 99));
    }

    [SharedDataFact]
    public void Score_DetectionsOnly_LeavesOutTheForcedPhotometryOfRubinAlerts()
    {
        var dir = ExportRandomModel("score-detections");
        var alert = SharedData.Files("alert-samples/lsst-real-v7_4").Single(f => f.Contains("58804293150441522", StringComparison.Ordinal));
        int Steps(bool detectionsOnly)
        {
            var output = new StringWriter();
            Assert.Equal(0, ScoreCommand.Run(dir, [alert], jsonl: true, output, CancellationToken.None, detectionsOnly: detectionsOnly));
            return JsonDocument.Parse(output.ToString().Trim()).RootElement.GetProperty("steps").GetInt32();
        }

        // This real Rubin alert carries 3 diaSources and 2 forced-photometry points (inspect: detections=3, forced=2).
        Assert.Equal(5, Steps(detectionsOnly: false));
        Assert.Equal(3, Steps(detectionsOnly: true));
    }

    [SharedDataTheory]
    [InlineData("1.0.0", "detections and forced photometry")]
    [InlineData("1.1.0", "detections only (trained on detections; forced photometry is left out)")]
    public void ShippedLsstModel_DeclaresLsstWithoutMetadata_InspectsAndScoresTheRealRubinAlerts(string version, string pointsFed)
    {
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        var dir = Path.Combine(repo, "models", "lsst-sim", version);
        using (var package = ModelPackage.Load(dir, AlertBroker.Model.Features.LightCurveEncoding.Supported))
        {
            Assert.Equal(["lsst"], package.Manifest.EffectiveSurveys);
            Assert.False(package.Manifest.EffectiveRequiresMetadata);
            Assert.DoesNotContain("meta", package.Session.Inputs.Select(i => i.Name));
        }

        var (exit, text) = RunInspect(dir);
        Assert.Equal(0, exit);
        Assert.Contains(pointsFed, text, StringComparison.Ordinal);
        var output = new StringWriter();
        Assert.Equal(0, ScoreCommand.Run(dir, [SharedData.Path("alert-samples", "lsst-real-v7_4")], jsonl: true, output, CancellationToken.None));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // 1.1.0 is fed detections of positive flux only: an object whose every diaSource is negative gets no probabilities.
        var objects = ScoreCommand.Collect([SharedData.Path("alert-samples", "lsst-real-v7_4")], CancellationToken.None, out _).Values;
        Assert.Equal(100, objects.Count);
        var scorable = version == "1.0.0" ? 100 : objects.Count(o => o.Observations.Any(p => p.Kind == ObservationKind.Detection && p.FluxMicroJy > 0 && p.FluxErrMicroJy > 0));
        Assert.Equal(scorable, lines.Length);
        Assert.True(scorable > 50, $"{scorable} objects with a positive detection");
        foreach (var line in lines)
        {
            var root = JsonDocument.Parse(line).RootElement;
            Assert.Equal("lsst", root.GetProperty("survey").GetString());
            var sum = root.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetDouble());
            Assert.InRange(sum, 0.999, 1.001);
        }
    }

    private string ExportRandomModel(string name) =>
        TestModelPackages.Export(Path.Combine(_root, name, "1"), "test-gru", "1", seed: 7, hidden: 16, classes: s_classes);

    private static (int Exit, string Text) RunInspect(string dir)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 400;
        var exit = ModelsCommand.Inspect(dir, console);
        return (exit, writer.ToString());
    }
}
