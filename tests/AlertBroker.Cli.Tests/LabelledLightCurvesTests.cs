using AlertBroker.Alerts;
using AlertBroker.Cli.Commands;
using AlertBroker.Simulation;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Validation;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// The labelled CSV pairs <c>simulate compare</c> and <c>tune</c> read, by the trainer's reader, as the simulator's
/// labelled light curves: what the conversion makes of the reader's observations (µJy, detection flags, band letters,
/// time order) and what it says the reader left out. The reader's own behaviour (CSV records, files, rejected rows) is
/// tested in tests/AlertBroker.Training.Tests.
/// </summary>
public sealed class LabelledLightCurvesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-labelled-").FullName;
    private readonly List<string> _said = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // A pair PREFIX_metadata.csv + PREFIX_lightcurves.csv in a folder of its own; returns the folder.
    private string WritePair(string prefix, string metadata, string lightCurves, string folder = "set")
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, folder)).FullName;
        File.WriteAllText(Path.Combine(dir, prefix + "_metadata.csv"), metadata);
        File.WriteAllText(Path.Combine(dir, prefix + "_lightcurves.csv"), lightCurves);
        return dir;
    }

    private List<LabelledLightCurve> Read(string dir) => LabelledLightCurves.Read(dir, "--sim", _said.Add);

    [Fact]
    public void Read_MagnitudesAndFluxCal_AreMicroJy()
    {
        var magnitudes = Assert.Single(Read(WritePair("ztf_m", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\n", "m")));
        var fluxes = Assert.Single(Read(WritePair("ztf_f", "object_id,class\nA,SNIa\n", "object_id,mjd,band,flux,flux_err\nA,100,g,1000,20\n", "f")));

        // Single precision, as the reader holds observations: 19 mag is 91.20 µJy; FLUXCAL 1000 at zero point 27.5 is 36.31 µJy.
        var m = Assert.Single(magnitudes.Points);
        Assert.Equal(Photometry.MagToMicroJy(19), m.FluxMicroJy, Photometry.MagToMicroJy(19) * 1e-6);
        Assert.Equal(Photometry.MagErrToFluxErr(Photometry.MagToMicroJy(19), 0.1), m.FluxErrMicroJy, 1e-5);
        Assert.Equal(19, m.Magnitude, 1e-5);
        var f = Assert.Single(fluxes.Points);
        Assert.Equal(1000 / LabelledCsvWriter.FluxCalPerMicroJy, f.FluxMicroJy, 1e-4);
        Assert.Equal(20 / LabelledCsvWriter.FluxCalPerMicroJy, f.FluxErrMicroJy, 1e-5);
        Assert.Equal(36.31, f.FluxMicroJy, 0.01);
        Assert.Empty(_said);
    }

    [Fact]
    public void Read_DetectedFlags_TheColumnElseSignalToNoiseFiveElseEveryMagnitude()
    {
        // Bright (S/N 100) but flagged not detected, faint (S/N 1) but flagged detected: the column decides, in any of its spellings.
        var flagged = Assert.Single(Read(WritePair("ztf_d", "\"object_id\",\"class\"\nA,SNIa\n", string.Join('\n',
            "\"object_id\",\"mjd\",\"band\",\"flux\",\"flux_err\",\"detected\"",
            "A,100,g,10,10,1.0",
            "A,101,g,10,10,TRUE",
            "A,102,g,10,10,True",
            "A,103,g,1000,10,0.0",
            "A,104,g,1000,10,FALSE",
            string.Empty), "d")));
        var bySignal = Assert.Single(Read(WritePair("ztf_s", "object_id,class\nA,SNIa\n", "object_id,mjd,band,flux,flux_err\nA,100,g,51,10\nA,101,g,49,10\nA,102,g,-80,10\n", "s")));
        var magnitudes = Assert.Single(Read(WritePair("ztf_m", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\nA,101,g,22,0.5\n", "m")));

        Assert.Equal([true, true, true, false, false], flagged.Points.Select(p => p.Detected));
        Assert.Equal([true, false, false], bySignal.Points.Select(p => p.Detected));
        Assert.Equal([true, true], magnitudes.Points.Select(p => p.Detected));
    }

    [Fact]
    public void Read_BandLettersInEitherCase_AreTheLowerCaseLetters()
    {
        var ztf = Assert.Single(Read(WritePair("ztf_case", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,G,19,0.1\nA,101,R,19,0.1\nA,102,g,19,0.1\nA,103,i,19,0.1\n", "z")));
        var lsst = Assert.Single(Read(WritePair("lsst_case", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,U,19,0.1\nA,101,y,19,0.1\nA,102,Z,19,0.1\n", "l")));

        Assert.Equal(['g', 'r', 'g', 'i'], ztf.Points.Select(p => p.Band));
        Assert.Equal(['u', 'y', 'z'], lsst.Points.Select(p => p.Band));
    }

    // The BTS file has 95 such rows; simulate compare and tune read each measurement once, as the trainer and the worker do.
    [Fact]
    public void Read_RowRepeatingAnEarlierRowOfItsObject_ReadOnceAndSaid()
    {
        var curves = Read(WritePair("ztf_x", "object_id,class\nA,SNIa\nB,SNII\n", string.Join('\n',
            "object_id,mjd,band,mag,mag_err",
            "A,100,g,19,0.1",
            "A,100,r,19,0.1",
            "A,100,g,19.00,0.10", // the first row again
            "A,100,g,19.2,0.1",   // another measurement at the same time and band
            "B,100,g,19,0.1",     // another object's
            string.Empty)));

        Assert.Equal(3, curves[0].Points.Count);
        Assert.Single(curves[1].Points);
        var said = Assert.Single(_said);
        Assert.StartsWith("--sim: 1 row(s) left out (1 repeats an earlier row exactly); the first: ", said, StringComparison.Ordinal);
        Assert.EndsWith("ztf_x_lightcurves.csv line 4", said, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RowsOutOfTimeOrder_AreSortedByTime_ObjectsInMetadataOrder()
    {
        var curves = Read(WritePair("ztf_o", "object_id,class,redshift\nB,SNII,0.02\nA,SNIa,0.05\n", "object_id,mjd,band,mag,mag_err\nA,103,g,18,0.1\nA,100,r,19,0.1\nB,101,g,18,0.1\nA,101.5,g,18.5,0.1\n"));

        Assert.Equal(["B", "A"], curves.Select(c => c.ObjectId));
        Assert.Equal(["SNII", "SNIa"], curves.Select(c => c.ClassName));
        Assert.Equal([0.02, 0.05], curves.Select(c => c.Redshift));
        Assert.Equal([100.0, 101.5, 103.0], curves[1].Points.Select(p => p.Mjd));
        Assert.Equal(['r', 'g', 'g'], curves[1].Points.Select(p => p.Band));
    }

    // The simulator's own reader kept such rows as points (NaN, or a 99 mag detection) and objects without a row as light
    // curves without a detection (n_det 0); the trainer's reader leaves them out, and compare and tune say so, as train does.
    [Fact]
    public void Read_RowsThatAreNotObservations_AndObjectsWithoutOne_AreLeftOutAndSaid()
    {
        var curves = Read(WritePair("ztf_bad", "object_id,class,redshift\nA,SNIa,-99\nB,SNII,0.02\n", string.Join('\n',
            "object_id,mjd,band,mag,mag_err",
            "A,100,g,19,0.1",
            "A,101,g,nan,0.1",
            "A,102,g,99,0.1",
            "A,103,g,19,0",
            "A,104,x,19,0.1",
            "C,100,g,19,0.1",     // no metadata row
            string.Empty)));

        var a = Assert.Single(curves);
        Assert.Equal("A", a.ObjectId);
        Assert.Equal([100.0], a.Points.Select(p => p.Mjd));
        Assert.True(double.IsNaN(a.Redshift));
        Assert.Equal(3, _said.Count);
        Assert.StartsWith("--sim: 4 row(s) left out (", _said[0], StringComparison.Ordinal);
        Assert.EndsWith("ztf_bad_lightcurves.csv line 3", _said[0], StringComparison.Ordinal);
        Assert.StartsWith("--sim: 1 metadata value(s) read as unknown (1 redshift not ", _said[1], StringComparison.Ordinal);
        Assert.Equal("--sim: 2 object(s) of the data left out: 1 labelled without a usable observation; 1 observed without a metadata row or label (no class)", _said[2]);
    }

    // A pair whose file and folder names say no survey: compare and tune are ZTF comparisons, and the simulator's own reader
    // took any band letter; the trainer's reader would refuse it ("cannot tell the survey").
    // The reader's advice for a folder of two pairs ("give the one to read") and for a redshift column of words ("name a
    // numeric column with --redshift-column") named what compare and tune do not take: a file for --real/--sim, an option
    // they do not have.
    [Fact]
    public void Read_AFolderOfTwoPairs_IsAnErrorNamingBothAndTheOption()
    {
        var dir = WritePair("ztf_a", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\n");
        WritePair("ztf_b", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\n");

        var e = Assert.Throws<InvalidDataException>(() => LabelledLightCurves.Read(dir, "--real", _said.Add));

        Assert.Contains("ztf_a_lightcurves.csv, ztf_b_lightcurves.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains("--real takes a directory holding one pair", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("give the one to read", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ARedshiftColumnOfWords_AdvisesCorrectingItNotAnOptionCompareLacks()
    {
        var dir = WritePair("ztf_z", "object_id,class,redshift\nA,SNIa,abc\nB,SNII,def\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\nB,100,r,19,0.1\n");

        var e = Assert.Throws<InvalidDataException>(() => Read(dir));

        Assert.Contains("the redshift column 'redshift' is not numeric", e.Message, StringComparison.Ordinal);
        Assert.Contains("its values must be numbers (empty where unknown), or leave the column out", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--redshift-column", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NamesThatSayNoSurvey_BandsReadAsZtf()
    {
        var curve = Assert.Single(Read(WritePair("candidates", "object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\nA,101,r,19,0.1\n", "mine")));

        Assert.Equal(['g', 'r'], curve.Points.Select(p => p.Band));
    }

    [Fact]
    public void Read_ASimulatedPair_SameFluxesDetectionsAndLabelsAsSimulated()
    {
        var dir = Path.Combine(_root, "sim");
        var curves = new LightCurveSimulator(new SimulationOptions { Seed = 3 }).Simulate(40).ToList();
        using (var writer = new LabelledCsvWriter(dir, "ztf_sim"))
        {
            curves.ForEach(writer.Write);
            writer.Complete();
        }

        var read = Read(dir);

        Assert.Empty(_said);
        Assert.Equal(curves.Count, read.Count);
        for (var i = 0; i < curves.Count; i++)
        {
            Assert.Equal(curves[i].ObjectId, read[i].ObjectId);
            Assert.Equal(curves[i].ClassName, read[i].ClassName);
            Assert.Equal(curves[i].Redshift, read[i].Redshift, 1e-5);
            Assert.Equal(curves[i].Points.Length, read[i].Points.Count);
            for (var j = 0; j < curves[i].Points.Length; j++)
            {
                var p = curves[i].Points[j];
                Assert.Equal(p.Mjd, read[i].Points[j].Mjd, 1e-5);
                Assert.Equal(Passbands.Letter(p.Band)[0], read[i].Points[j].Band);
                Assert.Equal(p.FluxMicroJy, read[i].Points[j].FluxMicroJy, Math.Abs(p.FluxMicroJy) * 1e-5 + 1e-6);
                Assert.Equal(p.Detected, read[i].Points[j].Detected);
            }
        }
    }

    [SharedDataFact]
    public void Read_RealBtsSet_MagnitudesAsFluxes_EachRepeatedRowOnce()
    {
        var real = LabelledLightCurves.Read(SharedData.Path("labelled", "ztf-bts"), "--real", _said.Add);

        Assert.Equal(1605, real.Count);
        var features = LightCurveFeatures.From(real[0]);
        Assert.Equal("TDE", features.ClassName);
        Assert.Equal(15.2769, features.PeakMag, 3);
        Assert.Equal(56295 - 95, real.Sum(c => c.Points.Count));
        var said = Assert.Single(_said);
        Assert.StartsWith("--real: 95 row(s) left out (95 repeats an earlier row exactly); the first: ", said, StringComparison.Ordinal);
    }
}
