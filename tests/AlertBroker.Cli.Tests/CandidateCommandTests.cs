namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>demo</c> on the 100 real Rubin samples: the summary says how many alerts were withheld as not transient candidates
/// and why (facts of those files: 46 negative subtractions, 33 more with a reliability below 0.5); with
/// <c>--min-detections</c> candidates with too few detections are withheld too; <c>--all-alerts</c> publishes
/// probabilities for all of them.
/// </summary>
public sealed class CandidateCommandTests
{
    [SharedDataFact]
    public async Task Demo_RealRubinSamples_WithholdsNonCandidates_AllAlertsScoresEveryAlert()
    {
        var samples = SharedData.Sample("lsst-real-v7_4");
        var environment = new Dictionary<string, string?> { ["COLUMNS"] = "220" };
        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["demo", samples, "--nights", "0"], environment, TimeSpan.FromSeconds(180));
        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("withheld:        79 alerts are not transient candidates, published without probabilities (negative-flux 46, reliability 33;", output, StringComparison.Ordinal);
        Assert.Contains("(not a transient candidate)", output, StringComparison.Ordinal);
        Assert.Contains("none 79", output, StringComparison.Ordinal);

        // With --min-detections 3, candidates whose object has one or two detections so far are withheld too, named apart.
        var (minExit, min, _) = await AlertBrokerProcess.RunAsync(["demo", samples, "--nights", "0", "--min-detections", "3"], environment, TimeSpan.FromSeconds(180));
        Assert.True(minExit == 0, $"exit {minExit}:\n{min}");
        Assert.Matches(@"withheld: +(\d+) alerts are not transient candidates or carry too few detections, published without probabilities \(negative-flux 46, reliability 33, too-few-detections \d+;", min);
        Assert.Contains("(too few detections yet)", min, StringComparison.Ordinal);

        var (allExit, all, _) = await AlertBrokerProcess.RunAsync(["demo", samples, "--nights", "0", "--all-alerts"], environment, TimeSpan.FromSeconds(180));
        Assert.True(allExit == 0, $"exit {allExit}:\n{all}");
        Assert.DoesNotContain("withheld:", all, StringComparison.Ordinal);
        Assert.DoesNotContain("not a transient candidate", all, StringComparison.Ordinal);
    }

    // demo took --min-detections 5000 (run refuses above 1000); score had no --min-detections at all.
    [Theory]
    [InlineData("demo", "0")]
    [InlineData("demo", "1001")]
    [InlineData("score", "0")]
    [InlineData("score", "1001")]
    public void MinDetections_OutsideOneToAThousand_IsAUsageError(string command, string value)
    {
        var parse = AlertBrokerCommand.Create().Parse([command, "--min-detections", value, "x"]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("--min-detections", StringComparison.Ordinal));
    }

    // Found by the worker hunt (2026-12-07): an object whose every point has a flux error of 0 (valid, but no step for the
    // network) was left out of score's table without a word; alone it gave an empty table and exit 1, nothing said.
    [SharedDataFact]
    public async Task Score_ObjectWithoutAPointTheModelScores_SaysSo()
    {
        using var dir = new TempDirectory();
        var file = MutatedSample(dir.Path, "zero-errors.avro", record =>
        {
            foreach (var point in new[] { record["candidate"] }.Concat(record["prv_candidates"] as List<object?> ?? []).Concat(record.Schema.Fields.Any(f => f.Name == "fp_hists") ? record["fp_hists"] as List<object?> ?? [] : []))
            {
                var p = (AlertBroker.Avro.GenericRecord)point!;
                foreach (var field in new[] { "sigmapsf", "forcediffimfluxunc" })
                {
                    if (p.Schema.Fields.Any(f => f.Name == field) && p[field] is float)
                    {
                        p[field] = 0f;
                    }
                }
            }
        });

        var run = await AlertBrokerProcess.RunToEndAsync(["score", file, "--model", "models/ztf-bts/2.7.0"]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("1object(s)notscored:noneoftheirpointsisonethemodelscores", Squeezed(run.Stderr), StringComparison.Ordinal);
    }

    // The worker dead-letters an alert without an object id (InvalidValue); score gave it a row under "". Since 2026-12-07
    // the decoder refuses it (an objectId must be 1 to 256 characters without control characters or white space).
    [SharedDataFact]
    public async Task Score_AlertWithoutAnObjectId_IsRefusedAsTheWorkerRefusesIt()
    {
        using var dir = new TempDirectory();
        var file = MutatedSample(dir.Path, "no-id.avro", record => record["objectId"] = string.Empty);

        var run = await AlertBrokerProcess.RunToEndAsync(["score", file, "--model", "models/ztf-bts/2.7.0"]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("ZTFalert:theobjectIdisempty", Squeezed(run.Stderr), StringComparison.Ordinal);
        Assert.Contains("noalertcouldbereadfrom", Squeezed(run.Stderr), StringComparison.Ordinal);
    }

    // The first real ZTF sample, changed, written as a container file in the directory.
    private static string MutatedSample(string directory, string name, Action<AlertBroker.Avro.GenericRecord> change)
    {
        var reader = AlertBroker.Avro.AvroContainerReader.Open(File.ReadAllBytes(SharedData.AvroFiles("ztf-real-50").First()));
        var record = (AlertBroker.Avro.GenericRecord)reader.ReadAll().Single()!;
        change(record);
        var file = Path.Combine(directory, name);
        using var stream = File.Create(file);
        using var writer = new AlertBroker.Avro.AvroContainerWriter(stream, reader.Header.Schema);
        writer.Write(record);
        return file;
    }

    private static string Squeezed(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("ab-score-sample-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    // The summary said "1 dead letters" and nothing more: now it names the kind and the first error.
    [SharedDataFact]
    public async Task Demo_SchemaSampleWithAnImpossibleTime_SummaryNamesTheDeadLettersKindAndError()
    {
        var samples = SharedData.Path("alert-samples", "lsst");
        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["demo", samples, "--nights", "0"], new Dictionary<string, string?> { ["COLUMNS"] = "400" }, TimeSpan.FromSeconds(180));

        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("1 dead letter;", output, StringComparison.Ordinal);
        Assert.Matches(@"dead letters: +1 InvalidValue, the first: detection \d+: time MJD \d+ is outside the Rubin window", output);
        Assert.Contains("(on a deployment: alertbroker consume --kind InvalidValue)", output, StringComparison.Ordinal);
    }
}
