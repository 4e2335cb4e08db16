using System.Text.Json;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// A package that is sound on disk but whose network gives NaN: every command that serves, inspects, evaluates or builds on
/// a package given by path says "model unusable" (exit 3) and why, in one line. Before, <c>models inspect</c> passed it,
/// <c>score</c> and <c>demo</c> printed "SNIa NaN" for every object (exit 0), <c>score --jsonl</c> ended in "unexpected
/// error" (exit 70) and <c>evaluate</c> printed a macro AUROC of 0.38 computed from NaNs (exit 0).
/// </summary>
public sealed class InvalidOutputCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-invalid-output-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SharedDataFact]
    public async Task APackageThatGivesNaN_IsModelUnusable_ForInspectScoreDemoEvaluateVerifyAndAverage()
    {
        // +∞ in the output bias: the files are in order, every output is NaN. NaN there: the weights say so.
        var infinite = BrokenModelPackages.Export(Path.Combine(_root, "inf", "nan-model", "1.0.0"), float.PositiveInfinity);
        var nan = BrokenModelPackages.Export(Path.Combine(_root, "nan", "nan-model", "1.0.0"), float.NaN);
        var alerts = SharedData.Sample("ztf");
        var bts = SharedData.Path("labelled", "ztf-bts");
        var reference = Path.Combine(_root, "reference.json");
        File.WriteAllText(reference, "{}");

        (string[] Args, string Says)[] runs =
        [
            (["models", "inspect", infinite], "InvalidOutput: the probabilities after step 0 of a 1-step light curve are not a distribution: class 0 is NaN"),
            (["score", alerts, "--model", infinite, "--jsonl"], "InvalidOutput"),
            (["demo", "--model", infinite], "InvalidOutput"),
            (["models", "verify", infinite, "--reference", reference], "InvalidOutput"),
            (["evaluate", "--model", infinite, "--data", bts], "the network's weights are not finite (output.bias[0] is Infinity)"),
            (["models", "inspect", nan], "InvalidOutput: the weight output.bias[0] is NaN"),
            (["score", alerts, "--model", nan], "InvalidOutput: the weight output.bias[0] is NaN"),
            (["evaluate", "--model", nan, "--data", bts], "InvalidOutput: the weight output.bias[0] is NaN"),
        ];
        foreach (var (args, says) in runs)
        {
            var (code, output, _) = await AlertBrokerProcess.RunAsync(args);
            Assert.True(code == 3, $"{string.Join(' ', args)}: exit {code}: {output}");
            Assert.Contains(says, output, StringComparison.Ordinal);
            Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
            // No probability printed as NaN: the only NaN in the output is in the explanation.
            Assert.DoesNotMatch(@"\d\s+NaN|NaN\s*(\n|$)|\s{2,}NaN", output);
        }

        // No derived package is built from either.
        foreach (var broken in new[] { infinite, nan })
        {
            var (averaged, averageOutput, _) = await AlertBrokerProcess.RunAsync(["models", "average", broken, broken, "--out", Path.Combine(_root, "avg")]);
            Assert.Equal(3, averaged);
            Assert.Matches("model unusable .*(weights are not finite|is NaN)", averageOutput);
            Assert.False(Directory.Exists(Path.Combine(_root, "avg")));
        }
    }

    [SharedDataFact]
    public void Score_AModelThatGivesNaN_WritesTheObjectsWithoutProbabilities_AsValidJson()
    {
        // Loaded without the load-time check, as a model that passes it but fails on some light curves would be.
        using var package = ModelPackage.Load(BrokenModelPackages.Export(Path.Combine(_root, "nan-model", "1.0.0"), float.PositiveInfinity), StepEncodings.Ids);
        var objects = Commands.ScoreCommand.Collect([SharedData.Sample("ztf")], CancellationToken.None, out _);

        var scores = Commands.ScoreCommand.Score(package, objects.Values);

        Assert.NotEmpty(scores);
        Assert.All(scores, s =>
        {
            Assert.Empty(s.Probabilities);
            Assert.Equal("class 0 is NaN", s.InvalidOutput);
        });

        // --jsonl: one valid JSON object per line, no number that could pass for a probability.
        using var text = new StringWriter();
        Commands.ScoreCommand.WriteJsonLines(text, [.. scores.Select(s => s with { Model = "nan-model@1.0.0", Classes = TestModelPackages.Classes })]);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(scores.Count, lines.Length);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("topClass").ValueKind);
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("probabilities").ValueKind);
            Assert.Equal("class 0 is NaN", json.RootElement.GetProperty("invalidOutput").GetString());
        }
    }
}
