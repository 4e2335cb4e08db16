using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.Training.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void Auroc_PerfectReversedAndTied_AreOneZeroAndHalf()
    {
        float[] probs = [0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f, 0.2f, 0.8f];
        int[] labels = [0, 0, 1, 1];
        Assert.Equal(1.0, ClassificationMetrics.Auroc(probs, labels, 2, 0), 10);
        Assert.Equal(1.0, ClassificationMetrics.Auroc(probs, labels, 2, 1), 10);
        int[] reversed = [1, 1, 0, 0];
        Assert.Equal(0.0, ClassificationMetrics.Auroc(probs, reversed, 2, 0), 10);
        float[] tied = [0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f];
        Assert.Equal(0.5, ClassificationMetrics.MacroAuroc(tied, labels, 2), 10);
    }

    [Fact]
    public void Auroc_RandomScores_EqualsPairCounting()
    {
        Prop.ForAll(Gen.Choose(2, 40).Select(n => n).ToArbitrary(), Gen.Choose(0, 10_000).ToArbitrary(), (n, seed) =>
        {
            var random = new Random(seed);
            var probs = new float[n * 2];
            var labels = new int[n];
            for (var i = 0; i < n; i++)
            {
                probs[i * 2] = random.Next(0, 5) / 4f; // coarse, so ties happen
                probs[(i * 2) + 1] = 1 - probs[i * 2];
                labels[i] = random.Next(2);
            }

            double pairs = 0, wins = 0;
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    if (labels[i] == 0 && labels[j] != 0)
                    {
                        pairs++;
                        wins += probs[i * 2] > probs[j * 2] ? 1 : probs[i * 2] == probs[j * 2] ? 0.5 : 0;
                    }
                }
            }

            var auc = ClassificationMetrics.Auroc(probs, labels, 2, 0);
            return pairs == 0 ? double.IsNaN(auc) : Math.Abs(auc - (wins / pairs)) < 1e-12;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Confusion_CountsArgMax()
    {
        float[] probs = [0.6f, 0.4f, 0.3f, 0.7f, 0.9f, 0.1f];
        int[] labels = [0, 0, 1];
        var m = ClassificationMetrics.Confusion(probs, labels, 2);
        Assert.Equal(1, m[0, 0]);
        Assert.Equal(1, m[0, 1]);
        Assert.Equal(1, m[1, 0]);
        Assert.Equal(0, m[1, 1]);
        Assert.Equal(1.0 / 3, ClassificationMetrics.Accuracy(probs, labels, 2), 10);
    }

    [Fact]
    public void Report_HtmlAndJson_AreSelfContainedAndCarryTheNumbers()
    {
        var data = TestNetworks.RandomData([4, 2, 3, 5], 4, 2, 1);
        var predictions = new float[data.Count][];
        for (var i = 0; i < data.Count; i++)
        {
            predictions[i] = new float[data.Lengths[i] * 2];
            for (var t = 0; t < data.Lengths[i]; t++)
            {
                predictions[i][(t * 2) + data.Labels[i]] = 1;
            }
        }

        var report = EvaluationReport.FromPredictions(data, predictions);
        Assert.Equal(1.0, report.MacroAuroc, 10);
        Assert.Equal(1.0, report.Accuracy, 10);
        var html = ReportWriter.ToHtml(report);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"macroAuroc\": 1", ReportWriter.ToJson(report), StringComparison.Ordinal);
    }

    // Found by the data-integrity review (2026-12-07): evaluation.json wrote an undefined figure (the AUROC, recall and F1 of
    // a class no test object has) as the string "NaN", where strict readers (jq's arithmetic, JSON.parse into a number
    // field, a typed reader) need a number. It is null now; the report's own reader reads null and the old "NaN" alike.
    [Fact]
    public async Task ReportJson_UndefinedFigures_AreNull_ForStrictReaders_AndReadBack()
    {
        float[][] days = [[0, 3, 12], [0, 1], [0, 6, 7], [0], [0, 25], [0, 2, 4]];
        var steps = days.Select(d => new float[d.Length * 6]).ToArray();
        var data = EncodedDataset.FromArrays(["A", "B", "C"], steps, [], [0, 1, 0, 1, 0, 1], 0, days);
        var report = EvaluationReport.FromPredictions(data, TestNetworks.RandomDistributions(data, 4));
        Assert.True(double.IsNaN(report.PerClass[2].Auroc));

        var json = ReportWriter.ToJson(report);

        using (var document = System.Text.Json.JsonDocument.Parse(json))
        {
            var c = document.RootElement.GetProperty("perClass")[2];
            Assert.Equal(System.Text.Json.JsonValueKind.Null, c.GetProperty("auroc").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, c.GetProperty("f1").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Number, document.RootElement.GetProperty("macroAuroc").ValueKind);
            Assert.Empty(NamedLiterals(document.RootElement));
        }

        // A typed reader with the default options (no named floating-point literals) reads every figure.
        var strict = System.Text.Json.JsonSerializer.Deserialize<StrictReport>(json, new System.Text.Json.JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        Assert.Null(strict.PerClass[2].Auroc);
        Assert.Equal(report.MacroAuroc, strict.MacroAuroc);

        // Round trip with the report's options, from this release's file and from one written before (with "NaN").
        var old = json.Replace("null", "\"NaN\"", StringComparison.Ordinal);
        Assert.Contains("\"auroc\": \"NaN\"", old, StringComparison.Ordinal);
        foreach (var text in new[] { json, old })
        {
            var perClass = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("perClass").GetRawText();
            var back = System.Text.Json.JsonSerializer.Deserialize<ClassReport[]>(perClass, ReportWriter.JsonOptions)!;
            Assert.Equal(report.PerClass, back);
        }

        // Python's json with every named constant refused, and no figure a string.
        var path = Path.Combine(Path.GetTempPath(), $"evaluation-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("""
                import json, sys
                def refuse(name): raise ValueError("not JSON: " + name)
                def walk(v):
                    if isinstance(v, dict): [walk(x) for x in v.values()]
                    elif isinstance(v, list): [walk(x) for x in v]
                    elif v in ("NaN", "Infinity", "-Infinity"): raise ValueError("a figure written as a string: " + v)
                d = json.load(open(sys.argv[1]), parse_constant=refuse)
                walk(d)
                assert d["perClass"][2]["auroc"] is None
                print("ok")
                """);
            start.ArgumentList.Add(path);
            using var python = System.Diagnostics.Process.Start(start)!;
            var stderr = python.StandardError.ReadToEndAsync();
            var stdout = await python.StandardOutput.ReadToEndAsync();
            await python.WaitForExitAsync();
            Assert.True(python.ExitCode == 0, await stderr);
            Assert.Equal("ok", stdout.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<string> NamedLiterals(System.Text.Json.JsonElement e) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => [.. e.EnumerateObject().SelectMany(p => NamedLiterals(p.Value))],
        System.Text.Json.JsonValueKind.Array => [.. e.EnumerateArray().SelectMany(NamedLiterals)],
        System.Text.Json.JsonValueKind.String when e.GetString() is "NaN" or "Infinity" or "-Infinity" => [e.GetString()!],
        _ => [],
    };

    private sealed record StrictClass(string Class, int Support, double? Precision, double? Recall, double? F1, double? Auroc);

    private sealed record StrictEarly(double Days, int Objects, double? MacroAuroc, double? Accuracy);

    private sealed record StrictReport(double? MacroAuroc, double? MacroF1, double? Accuracy, double? MeanEarlyMacroAuroc, List<StrictClass> PerClass, List<StrictEarly> Early);

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.3, 0.9)]
    [InlineData(-1.0, 1.0)]
    public void SvgChart_AxisTicks_ReadAsNumbersWithoutANegativeZero(double yMin, double yMax)
    {
        // A tick at zero came out as "-0" (Math.Ceiling(-1e-9) is -0.0): the ROC chart of every report read "-0" at its origin.
        var svg = SvgChart.Lines("t", "x", "y", [new ChartSeries("s", [0, 0.5, 1], [yMin, 0.5, yMax])], yMin, yMax, xMin: 0, xMax: 1);
        var labels = System.Text.RegularExpressions.Regex.Matches(svg, "font-size='11'>([^<]*)</text>").Select(m => m.Groups[1].Value).ToList();

        Assert.DoesNotContain("-0", labels);
        Assert.Contains("0", labels);
        Assert.All(labels.Where(l => l != "s"), l => Assert.True(double.TryParse(l, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _), l));
    }

    [Fact]
    public void PredictionTable_RowsPerObjectAndView_RecomputeTheReportsFigures()
    {
        // Six objects whose steps fall on different days, so that the views take different numbers of steps.
        float[][] days = [[0, 3, 12, 40], [0, 1], [0, 6, 7, 8, 60], [0], [0, 25, 26], [0, 2, 4, 9, 14, 19]];
        var steps = days.Select(d => new float[d.Length * 6]).ToArray();
        var data = EncodedDataset.FromArrays(["A", "B", "C"], steps, [], [0, 1, 2, 0, 1, 2], 0, days);
        var predictions = TestNetworks.RandomDistributions(data, 4);
        var report = EvaluationReport.FromPredictions(data, predictions);

        using var writer = new StringWriter();
        PredictionTable.Write(writer, data, predictions);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("object_id,class,view,steps,p_A,p_B,p_C", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(6 * 9, rows.Count);

        // The first object: 0 → 1 step, 2 → 1, 5 → 2, 10 → 2, 15 → 3, 20 → 3, 30 → 3, 50 → 4, whole → 4.
        var first = rows.Where(r => r[0] == data.ObjectIds[0]).ToList();
        Assert.Equal(["0", "2", "5", "10", "15", "20", "30", "50", "whole"], first.Select(r => r[2]));
        Assert.Equal(["1", "1", "2", "2", "3", "3", "3", "4", "4"], first.Select(r => r[3]));

        // Each view's rows give the report's macro AUROC for that view.
        int[] labels = [.. rows.Where(r => r[2] == "whole").Select(r => r[1] switch { "A" => 0, "B" => 1, _ => 2 })];
        float[] Probabilities(string view) => [.. rows.Where(r => r[2] == view).SelectMany(r => r[4..].Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)))];
        Assert.Equal(report.MacroAuroc, ClassificationMetrics.MacroAuroc(Probabilities("whole"), labels, 3), 12);
        foreach (var point in report.Early)
        {
            Assert.Equal(point.MacroAuroc, ClassificationMetrics.MacroAuroc(Probabilities(point.Days.ToString(System.Globalization.CultureInfo.InvariantCulture)), labels, 3), 12);
        }

        Assert.Throws<ArgumentException>(() => PredictionTable.Write(TextWriter.Null, data, predictions[..5]));
    }

    [Fact]
    public void PredictionTable_ClassNamesWithCommasAndQuotes_AreQuotedWholeFieldsPerRfc4180()
    {
        float[][] days = [[0, 3], [0]];
        var steps = days.Select(d => new float[d.Length * 6]).ToArray();
        var data = EncodedDataset.FromArrays(["SN Ia, normal", "TDE \"x\"", "C"], steps, [], [0, 1], 0, days);
        var predictions = TestNetworks.RandomDistributions(data, 4);

        using var writer = new StringWriter();
        PredictionTable.Write(writer, data, predictions);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("object_id,class,view,steps,\"p_SN Ia, normal\",\"p_TDE \"\"x\"\"\",p_C", lines[0].TrimEnd('\r'));
        using var reader = new AlertBroker.Alerts.Csv.CsvRecordReader(new StringReader(writer.ToString()), "predictions.csv");
        Assert.Equal(["object_id", "class", "view", "steps", "p_SN Ia, normal", "p_TDE \"x\"", "p_C"], reader.ReadHeader());
        var records = new List<string[]>();
        while (reader.ReadFields() is { } cells)
        {
            records.Add(cells);
        }

        Assert.Equal(lines.Length - 1, records.Count);
        Assert.All(records, r => Assert.Equal(7, r.Length));
        Assert.Equal("SN Ia, normal", records[0][1]);
        Assert.Equal("TDE \"x\"", records[^1][1]);
    }

    [Fact]
    public void Stratified_Split_KeepsEveryClassInEveryPartAndIsSeeded()
    {
        var labels = new int[200];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = i < 150 ? 0 : i < 190 ? 1 : 2;
        }

        var a = DatasetSplit.Stratified(labels, 0.15, 0.15, 5);
        var b = DatasetSplit.Stratified(labels, 0.15, 0.15, 5);
        Assert.Equal(a.Test, b.Test);
        Assert.Equal(200, a.Train.Length + a.Validation.Length + a.Test.Length);
        Assert.Empty(a.Train.Intersect(a.Test));
        Assert.Empty(a.Validation.Intersect(a.Test));
        foreach (var part in new[] { a.Train, a.Validation, a.Test })
        {
            Assert.Equal(3, part.Select(i => labels[i]).Distinct().Count());
        }

        var small = DatasetSplit.Subsample(a.Train, labels, 20, 1);
        var large = DatasetSplit.Subsample(a.Train, labels, 60, 1);
        Assert.Equal(20, small.Length);
        Assert.Equal(60, large.Length);
        Assert.Subset(large.ToHashSet(), small.ToHashSet());
        Assert.Equal(3, small.Select(i => labels[i]).Distinct().Count());
    }

    [Fact]
    public void ClassMapping_Parse_MergesAndDrops()
    {
        var map = ClassMapping.Parse("# comment\nSN Ia,SNIa\nSN Ia-91T,SNIa\nAGN,-\n*,-\nSNII,SNII\n");
        Assert.Equal("SNIa", map.Map("SN Ia-91T"));
        Assert.Null(map.Map("AGN"));
        Assert.Null(map.Map("CV"));
        Assert.Equal("SNII", map.Map("SNII"));
        Assert.Equal("X", ClassMapping.Parse("A,B").Map("X"));
    }

    // '*,Other' was read as "do not drop the others" and its target ignored without a word: it now merges every class no
    // rule names into one (an "other" class); a named class keeps its rule, a dropped one stays dropped.
    [Fact]
    public void ClassMapping_StarWithATarget_MergesEveryUnnamedClassIntoIt()
    {
        var map = ClassMapping.Parse("SN Ia,SNIa\nAGN,-\n*,Other\n");

        Assert.Equal("SNIa", map.Map("SN Ia"));
        Assert.Null(map.Map("AGN"));
        Assert.Equal("Other", map.Map("CV"));
        Assert.Equal("Other", map.Map("SN IIn"));
        Assert.Null(ClassMapping.Parse("*,-").Map("CV"));
        Assert.Null(ClassMapping.Parse("*,").Map("CV"));
    }

    // A line with two commas mapped 'A' to the class 'B,C'; a class given two rules took the later one; a control character
    // made a class no one could name. Each is refused naming the line (and, read from a file, the file).
    [Theory]
    [InlineData("A,B,C", "line 1: expected 'from,to' (one comma; a class name cannot hold one), got 'A,B,C'")]
    [InlineData("A,B\n\nA,C", "line 3: 'A' is given two rules, 'B' on line 1 and 'C' here")]
    [InlineData("A,-\nA,B", "line 2: 'A' is given two rules, '-' on line 1 and 'B' here")]
    [InlineData("*,-\n*,Other", "line 2: '*' is given two rules, '-' on line 1 and 'Other' here")]
    [InlineData("A,B\u0001", "line 1: expected 'from,to' with class names, got 'A,B?' (an empty name or a control character)")]
    [InlineData(",A", "line 1: expected 'from,to' (one comma; a class name cannot hold one), got ',A'")]
    public void ClassMapping_AmbiguousLines_AreRefusedNamingTheLine(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => ClassMapping.Parse(text));
        Assert.Equal("Class mapping " + message + ".", e.Message);

        var file = Path.Combine(Path.GetTempPath(), "ab-classmap-" + Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllText(file, text);
        try
        {
            Assert.Equal($"{file}: Class mapping {message}.", Assert.Throws<FormatException>(() => ClassMapping.Load(file)).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ClassMapping_TheSameRuleTwice_IsOneRule()
    {
        var map = ClassMapping.Parse("A,B\nA,B\nC,-\nC,");
        Assert.Equal("B", map.Map("A"));
        Assert.Null(map.Map("C"));
    }
}
