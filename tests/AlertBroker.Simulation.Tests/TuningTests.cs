using System.Text.Json;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;
using AlertBroker.Simulation.Validation;

namespace AlertBroker.Simulation.Tests;

public sealed class TuningTests
{
    [Fact]
    public void TransientClasses_Defaults_AreTheRecordedTuningResult()
    {
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(repo, "docs", "results", "simulation-tuning", "tuned-parameters.json")));
        var classes = doc.RootElement.GetProperty("classes").EnumerateArray().ToList();
        Assert.Equal(TransientClasses.RealSetClasses.Count, classes.Count);
        for (var i = 0; i < classes.Count; i++)
        {
            var model = TransientClasses.RealSetClasses[i];
            var recorded = classes[i];
            Assert.Equal(recorded.GetProperty("name").GetString(), model.Name);
            foreach (var p in typeof(TransientClassModel).GetProperties().Where(p => p.PropertyType == typeof(double)))
            {
                var name = char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
                // A parameter added after the run (the rise shape) is absent from its record: the code keeps the prior.
                var expected = recorded.TryGetProperty(name, out var value) ? value.GetDouble() : (double)p.GetValue(LiteraturePriors.Classes[i])!;
                var actual = (double)p.GetValue(model)!;
                Assert.True(Math.Abs(expected - actual) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"{model.Name}.{p.Name}: code {actual}, tuning {expected}");
            }
        }

        var survey = doc.RootElement.GetProperty("survey");
        Assert.Equal(survey.GetProperty("fieldNightProbability").GetDouble(), ZtfSurvey.Model.FieldNightProbability, 6);
        Assert.Equal(survey.GetProperty("limitingMagOffset").GetDouble(), ZtfSurvey.Model.LimitingMagOffset, 6);
    }

    [Fact]
    public void EarlyTemperature_ChangesTheColourBeforePeakButNotTheReferenceBand()
    {
        var cool = LiteraturePriors.SNII with { EarlyTemperatureK = 0 };
        var hot = LiteraturePriors.SNII with { EarlyTemperatureK = 30_000 };
        var a = new Transient(cool, 0.03, 35.5, 60_000, -17, 3, 100, 12_000, 0, 0);
        var b = new Transient(hot, 0.03, 35.5, 60_000, -17, 3, 100, 12_000, 0, 0);

        // Fifteen rest-frame days before peak (a fifth of the peak flux): hotter, so bluer; the reference (B) band is the
        // same template flux.
        Assert.True(b.TemperatureK(-15) > 20_000);
        Assert.Equal(12_000, a.TemperatureK(-15));
        Assert.Equal(a.AbsoluteMagnitude(0.44, -15), b.AbsoluteMagnitude(0.44, -15), 9);
        var colourA = a.AbsoluteMagnitude(0.47, -15) - a.AbsoluteMagnitude(0.62, -15);
        var colourB = b.AbsoluteMagnitude(0.47, -15) - b.AbsoluteMagnitude(0.62, -15);
        Assert.True(colourB < colourA - 0.1, $"g − r {colourB} (hot) vs {colourA}");

        // At and after peak nothing changes.
        Assert.Equal(a.AbsoluteMagnitude(0.62, 0), b.AbsoluteMagnitude(0.62, 0), 9);
        Assert.Equal(a.AbsoluteMagnitude(0.47, 20), b.AbsoluteMagnitude(0.47, 20), 9);
    }

    [Fact]
    public void Features_FirstDays_ColourAndRiseRate()
    {
        var curve = new Output.LabelledLightCurve { ObjectId = "x", ClassName = "SNII" };
        curve.Points.Add(new Output.LabelledPoint(100.0, 'r', AlertBroker.Alerts.Photometry.MagToMicroJy(19.5), 1, true));
        curve.Points.Add(new Output.LabelledPoint(100.5, 'g', AlertBroker.Alerts.Photometry.MagToMicroJy(19.3), 1, true));
        curve.Points.Add(new Output.LabelledPoint(103.0, 'r', AlertBroker.Alerts.Photometry.MagToMicroJy(18.9), 1, true));
        curve.Points.Add(new Output.LabelledPoint(110.0, 'r', AlertBroker.Alerts.Photometry.MagToMicroJy(18.0), 1, true));

        var f = LightCurveFeatures.From(curve);

        Assert.Equal(19.5, f.FirstMag, 6);
        Assert.Equal(-0.2, f.EarlyGMinusR, 6);
        Assert.Equal(-0.2, f.EarlyRiseRate, 6); // 19.5 → 18.9 over 3 days; the day-10 point is outside the first 5 days
        Assert.Equal(10, LightCurveFeatures.Quantities.Count);
    }

    [Fact]
    public void TunableParameter_PenaltyMoveAndBounds()
    {
        var mag = new TunableParameter("SNIa", nameof(TransientClassModel.PeakAbsMag), -19.3, 0.1, Logarithmic: false, Step: 0.1, Min: -19.5, Max: -19.0);
        Assert.Equal(0, mag.Penalty(-19.3), 12);
        Assert.Equal(4, mag.Penalty(-19.1), 9);
        Assert.Equal(-19.5, mag.Move(-19.45, 0.1, -1), 12);
        var rise = new TunableParameter("SNIa", nameof(TransientClassModel.RiseDays), 3, 0.2, Logarithmic: true, Step: 0.1, Min: 1, Max: 10);
        Assert.Equal(1, rise.Penalty(3 * Math.Pow(10, 0.2)), 9);
        Assert.Equal(3 * Math.Pow(10, 0.1), rise.Move(3, 0.1, 1), 9);
        Assert.Equal(4.5, rise.Get(rise.Set(LiteraturePriors.SNIa, 4.5)));
        var survey = new TunableParameter("survey", nameof(SurveyModel.FieldNightProbability), 0.4, 0.1, false, 0.04, 0.2, 0.8);
        Assert.Equal(0.5, survey.Get(survey.Set(ZtfSurvey.Model, 0.5)));
    }

    [Fact]
    public void Tuner_SmallRun_IsDeterministicAndNeverWorsensTheObjective()
    {
        // "Real" data from the tuned defaults; start from the priors: the tuner must move towards them, or stay.
        var real = new LightCurveSimulator(new SimulationOptions { Seed = 99, Classes = [TransientClasses.SNIa], Selection = SpectroscopicSelection.Bts })
            .Simulate(150).Select(LightCurveFeatures.From).ToList();
        var options = new TuningOptions
        {
            Real = real,
            Classes = [LiteraturePriors.SNIa],
            Parameters = [.. LiteraturePriors.Tunable.Where(p => p.Target == "SNIa" && p.Name == nameof(TransientClassModel.PeakTemperatureK))],
            PerClass = 150,
            Rounds = 2,
        };

        var a = new SimulatorTuner(options).Run(_ => { });
        var b = new SimulatorTuner(options).Run(_ => { });

        Assert.True(a.ObjectiveAfter <= a.ObjectiveBefore);
        Assert.Equal(a.ObjectiveAfter, b.ObjectiveAfter);
        Assert.Equal(a.Classes[0].PeakTemperatureK, b.Classes[0].PeakTemperatureK);
        Assert.NotEmpty(a.Steps);
        Assert.All(a.Steps.Where(s => s.Accepted), s => Assert.True(s.ObjectiveAfter < s.ObjectiveBefore));

        // The real colours come from a hotter SN Ia (16 000 K against the 12 000 K prior): the tuned temperature moves up.
        Assert.True(a.Classes[0].PeakTemperatureK > LiteraturePriors.SNIa.PeakTemperatureK);
    }

    [Fact]
    public void RiseShape_One_IsBazinAndOthersKeepThePeakButChangeTheRise()
    {
        static Transient Make(double shape) =>
            new(LiteraturePriors.SNIa with { RiseShape = shape }, 0.05, 36.7, 60_000, -19.3, 3, 25, 12_000, 0, 0);

        // ν = 1 is exactly Bazin's curve: e^(−x/τf) / (1 + e^(−x/τr)), peak at t = 0 (before peak, where the SN Ia
        // prior's temperature is constant and the reference band is the template).
        var bazin = Make(1.0);
        var t0 = -3 * Math.Log((25.0 / 3) - 1);
        double Reference(double t) => Math.Exp(-(t - t0) / 25) / (1 + Math.Exp(-(t - t0) / 3));
        foreach (var t in new[] { -20.0, -10, -3, -0.5, 0 })
        {
            var expected = -19.3 - (2.5 * Math.Log10(Reference(t) / Reference(0)));
            Assert.Equal(expected, bazin.AbsoluteMagnitude(0.44, t), 9);
        }

        foreach (var shape in new[] { 0.3, 1.5 })
        {
            var curve = Make(shape);

            // The reference band still peaks at t = 0 at the peak magnitude.
            Assert.Equal(-19.3, curve.AbsoluteMagnitude(0.44, 0), 9);
            Assert.True(curve.AbsoluteMagnitude(0.44, -0.05) > -19.3 && curve.AbsoluteMagnitude(0.44, 0.05) > -19.3);
        }

        // Ten days before peak: shallower (closer to peak) for ν > 1, steeper for ν < 1.
        var below = new[] { 0.3, 1.0, 1.5 }.Select(v => Make(v).AbsoluteMagnitude(0.44, -10) + 19.3).ToArray();
        Assert.True(below[0] > below[1] + 0.5 && below[1] > below[2] + 0.2, string.Join(", ", below));

        // The tuner can move it (simulate tune --rise-shape), one parameter per real-set class.
        Assert.Equal(TransientClasses.RealSetClasses.Select(c => c.Name), LiteraturePriors.RiseShapes.Select(p => p.Target));
        var parameter = LiteraturePriors.RiseShapes[0];
        Assert.Equal(0.5, parameter.Get(parameter.Set(LiteraturePriors.SNIa, 0.5)));
        Assert.Equal(0, parameter.Penalty(1.0));

        // No curve grows into the past, in any band (the decline is kept slower than the early rise).
        foreach (var shape in new[] { 0.05, 1.0, 2.0 })
        {
            var curve = Make(shape);
            var early = curve.AbsoluteMagnitude(0.36, -curve.RestDaysBeforePeak);
            Assert.True(early > curve.AbsoluteMagnitude(0.36, -curve.RestDaysBeforePeak / 2), $"ν = {shape}");
        }
    }

    [Fact]
    public void TunedParameters_ReadsTheRecordedFile_AndRefusesBrokenOnes()
    {
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        var tuned = TunedParameters.Read(Path.Combine(repo, "docs", "results", "simulation-tuning", "tuned-parameters.json"));
        Assert.Equal(TransientClasses.RealSetClasses.Select(c => c.Name), tuned.Classes.Select(c => c.Name));
        Assert.All(tuned.Classes, c => Assert.Equal(1.0, c.RiseShape)); // written before the rise shape existed: Bazin
        Assert.Equal(ZtfSurvey.Model.LimitingMagOffset, tuned.Apply(ZtfSurvey.Model).LimitingMagOffset, 6);
        var applied = tuned.Apply([.. TransientClasses.RealSetClasses, TransientClasses.SNIIn]);
        Assert.Equal(TransientClasses.SNIa.PeakTemperatureK, applied[0].PeakTemperatureK, 1e-5 * TransientClasses.SNIa.PeakTemperatureK);
        Assert.Same(TransientClasses.SNIIn, applied[^1]); // not in the file: the built-in one
        Assert.Equal(tuned.Classes, TunedParameters.Read(Path.Combine(repo, "docs", "results", "simulation-tuning")).Classes); // a run's directory names its file

        var dir = Directory.CreateTempSubdirectory("ab-tuned-").FullName;
        try
        {
            var text = File.ReadAllText(Path.Combine(repo, "docs", "results", "simulation-tuning", "tuned-parameters.json"));
            foreach (var broken in new[] { "{}", "[1,2]", "not json", text.Replace("\"riseDays\": 3,", "\"riseDays\": -3,", StringComparison.Ordinal), text.Replace("\"limitingMagOffset\"", "\"x\"", StringComparison.Ordinal) })
            {
                var path = Path.Combine(dir, "t.json");
                File.WriteAllText(path, broken);
                Assert.Throws<InvalidDataException>(() => TunedParameters.Read(path));
            }

            File.Delete(Path.Combine(dir, "t.json"));
            Assert.Contains("directory without a tuned-parameters.json", Assert.Throws<InvalidDataException>(() => TunedParameters.Read(dir)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Only "positive" was asked of the time scales: a rise of 1e6 days made one light curve of 3.2 million epochs, 1e308 a
    // run that never ended; a negative maxRedshift ended in "no SNIa passed the selection", exit 2; a class given twice
    // was taken once, the other ignored.
    [Theory]
    [InlineData("riseDays", "1e308")]
    [InlineData("riseDays", "1e6")]
    [InlineData("riseDays", "0")]
    [InlineData("declineDays", "1e5")]
    [InlineData("coolingDays", "-1")]
    [InlineData("maxRedshift", "-1")]
    [InlineData("maxRedshift", "100")]
    [InlineData("peakAbsMag", "5")]
    [InlineData("timeScaleScatter", "3")]
    [InlineData("plateauTailFraction", "2")]
    [InlineData("ratePerMpc3Yr", "1e300")]
    [InlineData("hostAvMean", "-0.1")]
    public void TunedParameters_AValueNoRunCanUse_IsRefusedNamingTheField(string field, string value)
    {
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(repo, "docs", "results", "simulation-tuning", "tuned-parameters.json")))!;
        node["classes"]![0]![field] = System.Text.Json.Nodes.JsonValue.Create(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        var path = Path.Combine(Directory.CreateTempSubdirectory("ab-tuned-range-").FullName, "tuned-parameters.json");
        try
        {
            File.WriteAllText(path, node.ToJsonString());

            var e = Assert.Throws<InvalidDataException>(() => TunedParameters.Read(path));

            Assert.Contains($"class 'SNIa' has {field} ", e.Message, StringComparison.Ordinal);
            Assert.Contains(", outside ", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void TunedParameters_Ranges_HoldEveryBuiltInClassEveryRecordedFileAndEveryValueTheTunerCanReach()
    {
        foreach (var c in TransientClasses.All.Concat(LiteraturePriors.Classes))
        {
            foreach (var (field, get, min, max, minExclusive) in TunedParameters.Ranges)
            {
                var v = get(c);
                Assert.True((minExclusive ? v > min : v >= min) && v <= max, $"{c.Name}.{field} = {v}");
            }
        }

        foreach (var p in LiteraturePriors.Tunable.Concat(LiteraturePriors.RiseShapes).Where(p => p.Target != "survey"))
        {
            var field = char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
            var (_, _, min, max, minExclusive) = TunedParameters.Ranges.Single(r => r.Field == field);
            Assert.True((minExclusive ? p.Min > min : p.Min >= min) && p.Max <= max, $"{p.Key} [{p.Min}, {p.Max}]");
        }

        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        // (first-run/ is the record of the first tuning, written before the depth offset existed: not a file --parameters reads.)
        foreach (var file in Directory.GetFiles(Path.Combine(repo, "docs", "results"), "tuned-parameters.json", SearchOption.AllDirectories).Where(f => File.ReadAllText(f).Contains("limitingMagOffset", StringComparison.Ordinal)))
        {
            Assert.NotEmpty(TunedParameters.Read(file).Classes);
        }
    }

    [Fact]
    public void TunedParameters_AClassGivenTwice_IsRefused()
    {
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(repo, "docs", "results", "simulation-tuning", "tuned-parameters.json")))!;
        node["classes"]!.AsArray().Add(node["classes"]![0]!.DeepClone());
        var path = Path.Combine(Directory.CreateTempSubdirectory("ab-tuned-twice-").FullName, "tuned-parameters.json");
        try
        {
            File.WriteAllText(path, node.ToJsonString());
            Assert.Contains("class 'SNIa' is given twice", Assert.Throws<InvalidDataException>(() => TunedParameters.Read(path)).Message, StringComparison.Ordinal);

            // A name the simulator does not make was ignored by Apply without a word.
            node["classes"]!.AsArray().RemoveAt(node["classes"]!.AsArray().Count - 1);
            node["classes"]![0]!["name"] = "Foo";
            File.WriteAllText(path, node.ToJsonString());
            Assert.Contains("class 'Foo' is not a class the simulator makes (SNIa, SNII, SNIbc, SLSN-I, TDE, SNIIn)", Assert.Throws<InvalidDataException>(() => TunedParameters.Read(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
