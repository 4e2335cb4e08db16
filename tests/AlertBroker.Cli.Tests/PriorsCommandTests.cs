using System.Text.Json.Nodes;
using AlertBroker.Cli.Commands;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Tests;

/// <summary><c>models priors</c>: Bayes' rule for a change of class mix, exactly, in the exported graph; refusals with one line and exit 2.</summary>
public sealed class PriorsCommandTests : IDisposable
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "TDE"];
    private readonly string _root = Directory.CreateTempSubdirectory("ab-priors-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Model(string name, string classWeights, JsonObject? counts = null, bool replay = false)
    {
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 8 }, 5);
        var dir = Path.Combine(_root, name);
        var data = new JsonObject
        {
            ["classWeights"] = classWeights,
            ["classCounts"] = counts ?? new JsonObject { ["SNIa"] = 900, ["SNII"] = 400, ["TDE"] = 100 },
            ["encoding"] = new JsonObject { ["detectionsOnly"] = true },
        };
        if (replay)
        {
            data["replay"] = new JsonObject { ["ratio"] = 1 };
        }

        ModelIo.Export(weights, s_classes, "m", "1", dir, data, new Dictionary<string, double>(), surveys: ["ztf"]);
        return dir;
    }

    private static (int Exit, string Out, string Err) Priors(string package, string priors, string output, string? training = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = PriorsCommand.Run(package, priors, training, null, output, null, null, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static float[] LastProbabilities(string package)
    {
        using var p = ModelPackage.Load(package, StepEncodings.Ids);
        using var scorer = new BatchScorer(p);
        var x = new float[4 * 6];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)Math.Sin(i * 0.7);
        }

        var r = scorer.Score([new ScoringRequest(x, ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty)])[0];
        return r.Probabilities[^3..];
    }

    // As for models average: model.json used to land in --out before MODEL_CARD.md, so a failed card left a package.
    [Fact]
    public void Priors_TheCardCannotBeWritten_LeavesNoPackageAndNoStaging()
    {
        var model = Model("src", "N/N_c");
        var output = Path.Combine(_root, "cardless", "1");
        Directory.CreateDirectory(Path.Combine(output, "MODEL_CARD.md"));

        var (exit, _, err) = Priors(model, "SNIa=0.7,SNII=0.25,TDE=0.05", output);

        Assert.Equal(1, exit);
        Assert.Contains("cannot write the output", err, StringComparison.Ordinal);
        Assert.Equal([Path.Combine(output, "MODEL_CARD.md")], Directory.GetFileSystemEntries(output));
        Assert.Equal([output], Directory.GetFileSystemEntries(Path.GetDirectoryName(output)!));
    }

    // The printed shift was ln(d/t), and d/t overflows a double for a training share of 1e-320: "SNIa Infinity" for a
    // package whose bias moved by a finite +736.
    [Fact]
    public void Priors_ATinyTrainingShare_PrintsTheFiniteShiftTheBiasMovedBy()
    {
        var source = Model("m-tiny", "N/N_c");
        var output = Path.Combine(_root, "moved-tiny", "2");

        var (exit, stdout, stderr) = Priors(source, "SNIa=1,SNII=1,TDE=1", output, training: "SNIa=1e-320,SNII=1,TDE=1");

        Assert.True(exit == 0, stderr);
        Assert.DoesNotContain("Infinity", stdout, StringComparison.Ordinal);
        Assert.Matches(@"output bias  SNIa \+73\d\.\d{3}, SNII -0\.405, TDE -0\.405", stdout);
        Assert.All(LastProbabilities(output), p => Assert.True(float.IsFinite(p)));
    }

    [Fact]
    public void Priors_ARareClass_RecordedUnrounded_AndMovingBackRestores()
    {
        // Recorded to 6 decimals, a prior of 1e-7 was 0, and moving the package again started from a mix without that class.
        var source = Model("m-rare", "N/N_c");
        var output = Path.Combine(_root, "moved-rare", "2");
        Assert.Equal(0, Priors(source, "SNIa=0.6,SNII=0.3999999,TDE=1e-7", output).Exit);
        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(output, ModelPackage.ManifestFileName)));
        Assert.Equal(1e-7, (double)manifest.Training.Data!["priors"]!["deployment"]!["TDE"]!, 12);

        var back = Path.Combine(_root, "back-rare", "3");
        Assert.Equal(0, Priors(output, "SNIa=1,SNII=1,TDE=1", back).Exit);
        var before = LastProbabilities(source);
        var restored = LastProbabilities(back);
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal(before[k], restored[k], 4);
        }
    }

    [Theory]
    [InlineData("N/N_c", 1.0, 1.0, 1.0)]               // an equal effective mix whatever the counts
    [InlineData("none", 900.0, 400.0, 100.0)]          // the counts themselves
    [InlineData("sqrt(N/N_c)", 30.0, 20.0, 10.0)]      // √N_c
    public void Priors_MoveTheProbabilitiesByBayesRule_FromTheRecordedTrainingMix(string rule, double a, double b, double c)
    {
        var source = Model("m-" + rule.Replace('/', '_').Replace('(', '_').Replace(')', '_'), rule);
        var output = Path.Combine(_root, "moved-" + Path.GetFileName(source), "2");

        var (exit, stdout, stderr) = Priors(source, "SNIa=0.7,SNII=0.25,TDE=0.05", output);

        Assert.True(exit == 0, stderr);
        Assert.Contains("deployed to  SNIa=0.7, SNII=0.25, TDE=0.05", stdout, StringComparison.Ordinal);

        // p'_c ∝ p_c · π_deploy(c) / π_train(c), with π_train ∝ (a, b, c).
        var before = LastProbabilities(source);
        var after = LastProbabilities(output);
        double[] train = [a, b, c];
        double[] deploy = [0.7, 0.25, 0.05];
        var unnormalised = Enumerable.Range(0, 3).Select(k => before[k] * deploy[k] / (train[k] / train.Sum())).ToArray();
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal(unnormalised[k] / unnormalised.Sum(), after[k], 4);
        }

        Assert.Contains("to the mix of the stream it scores (SNIa=0.7, SNII=0.25, TDE=0.05", File.ReadAllText(Path.Combine(output, "MODEL_CARD.md")), StringComparison.Ordinal);
        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(output, ModelPackage.ManifestFileName)));
        Assert.Equal(0.05, (double)manifest.Training.Data!["priors"]!["deployment"]!["TDE"]!, 6);
        Assert.True(manifest.EffectiveDetectionsOnly);
        Assert.Equal(["ztf"], manifest.EffectiveSurveys);

        // Moving again starts from the mix the first move deployed to; moving back restores the original.
        var back = Path.Combine(_root, "back-" + Path.GetFileName(source), "3");
        Assert.Equal(0, Priors(output, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SNIa={a},SNII={b},TDE={c}"), back).Exit);
        var restored = LastProbabilities(back);
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal(before[k], restored[k], 4);
        }
    }

    // A package models priors wrote records the move (adjustedFrom) and the mix moved to (priors.deployment); with the mix
    // unreadable, the class counts were taken for the training mix and the shift applied a second time (exit 0).
    [Theory]
    [InlineData("\"\"")]
    [InlineData(null)]
    [InlineData("{\"deployment\": \"x\"}")]
    public void Priors_AMovedPackageWhoseMixCannotBeRead_AsksForTrainingPriors(string? priorsRecord)
    {
        var source = Model("moved-src", "N/N_c");
        var moved = Path.Combine(_root, "moved", "1");
        Assert.Equal(0, Priors(source, "SNIa=0.7,SNII=0.25,TDE=0.05", moved).Exit);
        var path = Path.Combine(moved, ModelPackage.ManifestFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        var data = json["training"]!["data"]!.AsObject();
        data.Remove("priors");
        if (priorsRecord is not null)
        {
            data["priors"] = JsonNode.Parse(priorsRecord);
        }

        File.WriteAllText(path, json.ToJsonString());

        var (exit, _, stderr) = Priors(moved, "SNIa=0.5,SNII=0.3,TDE=0.2", Path.Combine(_root, "twice", "1"));
        var (given, _, givenErr) = Priors(moved, "SNIa=0.5,SNII=0.3,TDE=0.2", Path.Combine(_root, "given", "1"), training: "SNIa=0.7,SNII=0.25,TDE=0.05");

        Assert.Equal(2, exit);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("the output bias was moved already (training.data.adjustedFrom) but not to which class mix", stderr, StringComparison.Ordinal);
        Assert.Contains("give --training-priors", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "twice")));
        Assert.True(given == 0, givenErr);
    }

    [Theory]
    [InlineData("SNIa=0.7,SNII=0.3", "no positive prior for class 'TDE'")]
    [InlineData("SNIa=0.7,SNII=0.2,AGN=0.1", "'AGN' is not a class of the model")]
    [InlineData("SNIa=0.7,SNII=x,TDE=0.1", "'SNII=x' is not CLASS=VALUE")]
    [InlineData("SNIa=0.7,SNII=0.2,TDE=0", "no positive prior for class 'TDE'")]
    [InlineData("SNIa=0.7,SNIa=0.2,TDE=0.1", "given twice")]
    public void Priors_Unusable_ExitTwoWithOneLine(string priors, string expected)
    {
        var source = Model("bad", "N/N_c");

        var (exit, _, stderr) = Priors(source, priors, Path.Combine(_root, "never", "1"));

        Assert.Equal(2, exit);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "never")));
    }

    [Fact]
    public void Priors_TrainingMixNotRecorded_AsksForTrainingPriors_AndTakesThem()
    {
        var replayed = Model("replayed", "N/N_c", replay: true);

        var (exit, _, stderr) = Priors(replayed, "SNIa=0.7,SNII=0.25,TDE=0.05", Path.Combine(_root, "r", "1"));
        Assert.Equal(2, exit);
        Assert.Contains("replayed simulations", stderr, StringComparison.Ordinal);
        Assert.Contains("--training-priors", stderr, StringComparison.Ordinal);

        var (given, _, err) = Priors(replayed, "SNIa=0.7,SNII=0.25,TDE=0.05", Path.Combine(_root, "r", "2"), training: "SNIa=1,SNII=1,TDE=1");
        Assert.True(given == 0, err);
    }
}
