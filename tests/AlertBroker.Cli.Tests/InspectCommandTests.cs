using System.Runtime.InteropServices;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Cli.Commands;

namespace AlertBroker.Cli.Tests;

public class InspectCommandTests
{
    [SharedDataFact]
    public async Task Inspect_Pipe_ReadsTheAlert()
    {
        // `alertbroker inspect <(zcat alert.avro.gz)` or `… | alertbroker inspect /dev/stdin` hand the program a pipe: it
        // ended in "unexpected error (NotSupportedException): Stream does not support seeking" (exit 70).
        var file = SharedData.Files("alert-samples/ztf-real-50")[0];
        var directory = Directory.CreateTempSubdirectory("ab-inspect-pipe-").FullName;
        try
        {
            var fifo = Path.Combine(directory, "alert.pipe");
            Assert.Equal(0, MakeFifo(fifo, 0b110_000_000));
            var writer = Task.Run(async () =>
            {
                await using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                await stream.WriteAsync(await File.ReadAllBytesAsync(file));
            });

            var run = await AlertBrokerProcess.RunToEndAsync(["inspect", fifo]);
            await writer;

            Assert.True(run.Code == 0, run.Output);
            Assert.Contains("ZTF", run.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [SharedDataFact]
    public async Task Inspect_StandardInputAndProcessSubstitution_ReadTheAlert()
    {
        // /dev/stdin and a shell's <(…) are links into /proc naming a pipe ("pipe:[976947]") that no path holds: the
        // dangling-link check took them for broken links (exit 2).
        var file = SharedData.Files("alert-samples/ztf-real-50")[0];
        foreach (var script in new[] { "exec \"$0\" inspect /dev/stdin < \"$1\"", "exec \"$0\" inspect <(cat \"$1\")" })
        {
            var run = await AlertBrokerProcess.RunToEndAsync(["-c", script, AlertBrokerProcess.ProgramPath, file], program: "/bin/bash");

            Assert.True(run.Code == 0, $"{script}: exit {run.Code}: {run.Output}");
            Assert.Contains("object=ZTF", run.Stdout, StringComparison.Ordinal);
        }
    }

    [DllImport("libc.so.6", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);

    [SharedDataFact]
    public void Run_Json_WritesOneObjectPerRecordKeyedByAvroFieldNames()
    {
        var file = SharedData.Files("alert-samples/ztf-real-50")[0];
        var output = new StringWriter();

        var exit = InspectCommand.Run([file], json: true, normalized: false, limit: 0, new AlertDecoder(), output, CancellationToken.None);

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal(Path.GetFileNameWithoutExtension(file), root.GetProperty("candid").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("ZTF", root.GetProperty("objectId").GetString(), StringComparison.Ordinal);

        // Union values are plain JSON values; bytes are shown as their length.
        Assert.Equal(JsonValueKind.Object, root.GetProperty("candidate").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("candidate").GetProperty("magpsf").ValueKind);
        var stamp = root.GetProperty("cutoutScience").GetProperty("stampData");
        Assert.Equal(JsonValueKind.Number, stamp.ValueKind);
        Assert.InRange(stamp.GetInt32(), 1000, 100_000);
    }

    [SharedDataFact]
    public void Run_Normalized_WritesTheAlert()
    {
        var output = new StringWriter();
        var exit = InspectCommand.Run([SharedData.Path("alert-samples", "lsst", "v11_0", "fakeAlert.avro")], json: false, normalized: true, limit: 0, new AlertDecoder(), output, CancellationToken.None);

        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output.ToString().Trim());
        Assert.Equal("lsst", doc.RootElement.GetProperty("survey").GetString());
        Assert.Equal(281323062375219200, doc.RootElement.GetProperty("sourceId").GetInt64());
        Assert.Equal(1.241, doc.RootElement.GetProperty("candidate").GetProperty("fluxMicroJy").GetDouble(), 1e-6);
        Assert.Equal(3, doc.RootElement.GetProperty("detections").GetArrayLength());
    }

    [SharedDataFact]
    public void Run_NormalizedImpossibleTime_RefusedWithExitOne()
    {
        // The lsst.v7_4 schema's fake alert dates its detections MJD 1480360995: normalisation refuses it (decode-time
        // value checks) instead of writing an alert no model could use.
        var output = new StringWriter();
        var exit = InspectCommand.Run([SharedData.Path("alert-samples", "lsst", "v7_4", "fakeAlert.avro")], json: false, normalized: true, limit: 0, new AlertDecoder(), output, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Equal(string.Empty, output.ToString().Trim());
    }

    [SharedDataFact]
    public void Run_Summary_OneLinePerAlertAndLimitHonoured()
    {
        var output = new StringWriter();
        var exit = InspectCommand.Run([SharedData.Path("alert-samples", "ztf-real-50")], json: false, normalized: false, limit: 7, new AlertDecoder(), output, CancellationToken.None);

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length);
        Assert.All(lines, l => Assert.Contains("ztf 3.3", l, StringComparison.Ordinal));
    }

    // 42 of the 50 real ZTF samples are negative subtractions; their summary said mag=NaN. Now the magnitude the
    // survey quotes (magpsf, of the difference flux's size) and the sign (isdiffpos), checked against the raw records.
    [SharedDataFact]
    public void Run_Summary_NegativeSubtractionShowsMagpsfAndSign()
    {
        var path = SharedData.Path("alert-samples", "ztf-real-50");
        var summary = new StringWriter();
        var raw = new StringWriter();
        Assert.Equal(0, InspectCommand.Run([path], json: false, normalized: false, limit: 0, new AlertDecoder(), summary, CancellationToken.None));
        Assert.Equal(0, InspectCommand.Run([path], json: true, normalized: false, limit: 0, new AlertDecoder(), raw, CancellationToken.None));

        var lines = summary.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var records = raw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(records.Length, lines.Length);
        var negatives = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(records[i]);
            var candidate = doc.RootElement.GetProperty("candidate");
            var match = System.Text.RegularExpressions.Regex.Match(lines[i], @"  mag=(\d+\.\d{3})  diff=(positive|negative)  ");
            Assert.True(match.Success, lines[i]);
            Assert.Equal(candidate.GetProperty("magpsf").GetDouble(), double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0.002);
            var positive = candidate.GetProperty("isdiffpos").GetString() is "t" or "1";
            Assert.Equal(positive ? "positive" : "negative", match.Groups[2].Value);
            negatives += positive ? 0 : 1;
        }

        Assert.InRange(negatives, 1, lines.Length - 1);
    }

    // A bad file among good ones is reported and skipped, and the good ones are shown; the exit code is 1, as cat's or
    // gzip -t's when one input fails (it was 0, as replay's summary: a corrupt file, or an archive cut after its first
    // alerts, looked read whole to a script).
    [SharedDataFact]
    public void Run_BadFileAmongGoodOnes_ShowsTheGoodOnesAndExitsOne()
    {
        var good = SharedData.Files("alert-samples/ztf-real-50")[0];
        var bad = Path.GetTempFileName();
        try
        {
            File.WriteAllText(bad, "definitely not avro");
            var output = new StringWriter();
            var exit = InspectCommand.Run([bad, good], json: false, normalized: false, limit: 0, new AlertDecoder(), output, CancellationToken.None);
            var alone = InspectCommand.Run([good], json: false, normalized: false, limit: 0, new AlertDecoder(), new StringWriter(), CancellationToken.None);

            Assert.Equal(1, exit);
            var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith(good, line, StringComparison.Ordinal);
            Assert.Equal(0, alone);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void Run_OnlyBadInput_ExitsNonZero()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "definitely not avro");
            var exit = InspectCommand.Run([path], json: false, normalized: true, limit: 0, new AlertDecoder(), new StringWriter(), CancellationToken.None);
            Assert.Equal(1, exit);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SharedDataFact]
    public async Task Run_SchemaRegistry_DecodesConfluentWireFileThroughConfluentsClient()
    {
        // A real Rubin alert as its Kafka message (Confluent wire), its schema registered under the id the registry gives it.
        var wire = new AlertBroker.Worker.Kafka.SurveyWireFormat();
        var sample = SharedData.AvroFiles("lsst-real-v7_4").First();
        var message = wire.ToWire(File.ReadAllBytes(sample)).First();
        AlertBroker.Avro.ConfluentWireFormat.TryReadHeader(message, out var originalId);
        await using var registry = await AlertBroker.Worker.Tests.FakeSchemaRegistry.StartAsync();
        var id = registry.Add("lsst-value", wire.Schemas[originalId].ToString());
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
        var path = Path.Combine(Path.GetTempPath(), "ab-inspect-wire-" + Guid.NewGuid().ToString("N") + ".avro");
        File.WriteAllBytes(path, message);
        try
        {
            var output = new StringWriter();
            var exit = InspectCommand.Run([path], json: false, normalized: true, limit: 0, CliHelpers.CreateDecoder(registry.Url, null), output, CancellationToken.None);

            Assert.Equal(0, exit);
            var alert = JsonDocument.Parse(output.ToString().Trim()).RootElement;
            Assert.Equal("lsst", alert.GetProperty("survey").GetString());
            Assert.Equal(new AlertDecoder().DecodeSingle(File.ReadAllBytes(sample)).SourceId, alert.GetProperty("sourceId").GetInt64());
            Assert.Equal(1, registry.CountRequests("GET", "/schemas/ids/" + id));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("registry:8081")]
    [InlineData("file:///etc/passwd")]
    public void Inspect_InvalidSchemaRegistryUrl_IsAParseError(string url)
    {
        var parse = AlertBrokerCommand.Create().Parse(["inspect", Path.GetTempPath(), "--schema-registry", url]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("--schema-registry must be an absolute http", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Run_LimitInsideAContainerOfManyAlerts_PrintsThatMany(bool normalized)
    {
        // A night in one container file is one message of many alerts: --limit 3 printed every one of them (not --json).
        var dir = Directory.CreateTempSubdirectory("ab-inspect-night-").FullName;
        try
        {
            var night = NightContainer.Write(dir);
            var output = new StringWriter();

            var exit = InspectCommand.Run([night], json: false, normalized, limit: 3, new AlertDecoder(), output, CancellationToken.None);

            Assert.Equal(0, exit);
            Assert.Equal(3, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
