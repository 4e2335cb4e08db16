using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Tests;

/// <summary>
/// Values at the edges of an alert stream: a rate so low that its objects peaked beyond MJD 2^53 (the schedule then never
/// advanced a night: a hang), the Rubin diaObject of an object older than its alert history, and the schema ids of the
/// two surveys' Confluent-framed streams.
/// </summary>
public sealed class StreamGuardTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ab-sim-guard-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(1e-14)]
    [InlineData(1e-20)]
    [InlineData(AlertStreamSimulator.MinObjectsPerNight / 2)]
    public void AlertStreamSimulator_RateBelowTheMinimum_IsRefused(double rate)
    {
        var options = new AlertStreamOptions { Nights = 1, ObjectsPerNight = rate };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AlertStreamSimulator(options));
        Assert.Contains("0.001", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AlertStreamSimulator_AtTheMinimumRate_EndsItsNights()
    {
        // The lowest rate brings its first objects in within a batch, peaking inside any date a curve is simulated at.
        var stream = new AlertStreamSimulator(new AlertStreamOptions { Nights = 2, ObjectsPerNight = AlertStreamSimulator.MinObjectsPerNight });

        Assert.Equal(2, stream.Nights().Count());
        Assert.InRange(stream.ClearNights, 0, 2);
    }

    // Before, a peak at 2^54 spun for ever inside the schedule (night++ did not change night): the wait ends the test instead.
    [Theory]
    [InlineData(18014398509481984.0)]
    [InlineData(-1e300)]
    [InlineData(double.NaN)]
    [InlineData(LightCurveSimulator.MaxPeakMjd * 1.5)]
    public async Task SimulateAt_PeakBeyondAnyDate_ThrowsInsteadOfSpinning(double peakMjd)
    {
        var simulator = new LightCurveSimulator(new SimulationOptions { Survey = ZtfSurvey.Model, Seed = 3, MinDetections = 1 });

        var run = Task.Run(() => simulator.SimulateAt(5, peakMjd));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => run.WaitAsync(TimeSpan.FromMinutes(2)));
    }

    // nDiaSources counted the 365 days of prvDiaSources only (97) while the per-band counts and firstDiaSourceMjdTai
    // covered the whole life (132).
    [Fact]
    public async Task RubinAlert_ObjectOlderThanItsHistory_NDiaSourcesCountsItsWholeLife()
    {
        var curve = new LightCurveSimulator(new SimulationOptions { Survey = LsstSurvey.Model, Seed = 26, MinDetections = 6 }).SimulateOne(0);
        var points = curve.Points.ToArray();
        var first = Array.FindIndex(points, p => p.Detected);
        var last = Array.FindLastIndex(points, p => p.Detected);
        points[first] = points[first] with { Mjd = points[first].Mjd - 400 };
        Array.Sort(points, (a, b) => a.Mjd.CompareTo(b.Mjd));
        var old = new SimulatedLightCurve
        {
            ObjectId = curve.ObjectId,
            Index = curve.Index,
            Transient = curve.Transient,
            HostPhotoZ = curve.HostPhotoZ,
            HostPhotoZErr = curve.HostPhotoZErr,
            Ra = curve.Ra,
            Dec = curve.Dec,
            ObservedPeakMag = curve.ObservedPeakMag,
            DetectionCount = curve.DetectionCount,
            Points = points,
        };
        var detections = points.Count(p => p.Detected);

        using var writer = new AlertStreamWriter(LsstSurvey.Model, _dir, AlertOutputLayout.Files, 26, cutouts: false, AlertFraming.ConfluentWire);
        var message = writer.EncodeMessage(new SimulatedAlert(old, last)).ToArray();
        var alerts = new List<Alert>();
        await new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new DirectorySchemaLookup(Path.Combine(_dir, "schemas")) }).DecodeAsync(message, alerts);

        var alert = Assert.Single(alerts);
        Assert.Equal(detections, alert.Metadata.DiaSourceCount);
    }

    // Both surveys' streams had schema id 9001 with two different schemas: one schema folder could not serve both.
    [Theory]
    [InlineData("ztf", 9001)]
    [InlineData("lsst", 9002)]
    public void ConfluentFraming_DefaultSchemaId_IsTheSurveys(string surveyName, int expected)
    {
        var survey = SurveyModel.ByName(surveyName);
        var curve = new LightCurveSimulator(new SimulationOptions { Survey = survey, Seed = 8, MinDetections = 1 }).SimulateOne(0);

        using var writer = new AlertStreamWriter(survey, _dir, AlertOutputLayout.Files, 8, cutouts: false, AlertFraming.ConfluentWire);
        var message = writer.EncodeMessage(new SimulatedAlert(curve, Array.FindIndex(curve.Points, p => p.Detected)));

        Assert.True(ConfluentWireFormat.TryReadHeader(message.Span, out var id));
        Assert.Equal(expected, id);
        Assert.Equal(expected, AlertStreamWriter.DefaultSchemaId(survey.Survey));
        Assert.True(File.Exists(Path.Combine(_dir, "schemas", expected + ".avsc")));
    }
}
