using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Validation;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.Simulation.Tests;

public class OutputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ab-sim-csv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public void LabelledCsv_WrittenAndReadBack_SameFluxesAndLabels()
    {
        var curves = new LightCurveSimulator(new SimulationOptions { Seed = 3 }).Simulate(40).ToList();
        using (var writer = new LabelledCsvWriter(_dir, "ztf_sim"))
        {
            curves.ForEach(writer.Write);
            writer.Complete();
        }

        var read = LabelledSetReader.Read(_dir);

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
                Assert.Equal(p.FluxMicroJy, read[i].Points[j].FluxMicroJy, Math.Abs(p.FluxMicroJy) * 1e-5 + 1e-6);
                Assert.Equal(p.Detected, read[i].Points[j].Detected);
            }
        }
    }

    // A run that failed (an unreachable selection, a cancellation) left the --out folder it had made, empty.
    [Fact]
    public void LabelledCsv_NotCompleted_RemovesTheFoldersItMadeButNotOthers()
    {
        var made = Path.Combine(_dir, "a", "b") + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(_dir);
        using (new LabelledCsvWriter(made, "ztf_sim"))
        {
            Assert.True(Directory.Exists(made));
        }

        Assert.False(Directory.Exists(Path.Combine(_dir, "a")));
        Assert.True(Directory.Exists(_dir));

        // A folder that was there stays, as does anything the run did not write.
        var other = Path.Combine(_dir, "other.txt");
        File.WriteAllText(other, "x");
        using (new LabelledCsvWriter(_dir, "ztf_sim"))
        {
        }

        Assert.True(File.Exists(other));
        Assert.Equal([other], Directory.GetFileSystemEntries(_dir));

        // A folder it made that something else wrote into meanwhile stays.
        var shared = Path.Combine(_dir, "shared");
        using (new LabelledCsvWriter(shared, "ztf_sim"))
        {
            File.WriteAllText(Path.Combine(shared, "theirs.txt"), "y");
        }

        Assert.True(File.Exists(Path.Combine(shared, "theirs.txt")));
    }

    // A labelled pair x_metadata.csv + x_lightcurves.csv in _dir, as the readers find it.
    private void WritePair(string metadata, string lightCurves)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "x_metadata.csv"), metadata);
        File.WriteAllText(Path.Combine(_dir, "x_lightcurves.csv"), lightCurves);
    }

    [Fact]
    public void LabelledSetReader_QuotedHeaderAndDetectedAsFloatOrWord_ReadsTheFlags()
    {
        WritePair("\"object_id\",\"class\"\nA,SNIa\n", string.Join('\n',
            "\"object_id\",\"mjd\",\"band\",\"flux\",\"flux_err\",\"detected\"",
            "A,100,g,10,10,1.0",
            "A,101,g,10,10,TRUE",
            "A,102,g,10,10,True",
            "A,103,g,1000,10,0.0",
            "A,104,g,1000,10,FALSE",
            string.Empty));

        var curve = Assert.Single(LabelledSetReader.Read(_dir));
        Assert.Equal([true, true, true, false, false], curve.Points.Select(p => p.Detected));
    }

    // simulate compare and tune read the BTS file's 95 exactly repeated rows twice, where the trainer and the worker read
    // each measurement once.
    [Fact]
    public void LabelledSetReader_RowRepeatingAnEarlierRowOfItsObject_ReadOnce()
    {
        WritePair("object_id,class\nA,SNIa\nB,SNII\n", string.Join('\n',
            "object_id,mjd,band,mag,mag_err",
            "A,100,g,19,0.1",
            "A,100,r,19,0.1",
            "A,100,g,19.00,0.10", // the first row again
            "A,100,g,19.2,0.1",   // another measurement at the same time and band
            "B,100,g,19,0.1",     // another object's
            ""));

        var curves = LabelledSetReader.Read(_dir);

        Assert.Equal(3, curves[0].Points.Count);
        Assert.Single(curves[1].Points);
    }

    [Fact]
    public void LabelledSetReader_QuotedCellsHoldingLineBreaks_AreOneRecord()
    {
        WritePair("object_id,comment,class,redshift\r\nA,\"host:\r\nspiral, \"\"arm\"\"\",SNIa,0.05\r\nB,,SNII,0.02\r\n", "object_id,mjd,band,mag,mag_err,note\nA,100,g,19,0.1,\"a\n\nb\"\nA,101,r,18,0.1,\nB,100,g,18,0.1,x\n");

        var curves = LabelledSetReader.Read(_dir);

        Assert.Equal(["A", "B"], curves.Select(c => c.ObjectId));
        Assert.Equal(["SNIa", "SNII"], curves.Select(c => c.ClassName));
        Assert.Equal(0.05, curves[0].Redshift, 1e-12);
        Assert.Equal([100.0, 101.0], curves[0].Points.Select(p => p.Mjd));
        Assert.Equal(['g', 'r'], curves[0].Points.Select(p => p.Band));
        Assert.Single(curves[1].Points);
    }

    [Fact]
    public void LabelledSetReader_QuoteLeftOpenOrTooFewColumns_IsAnInvalidDataExceptionNamingTheLine()
    {
        WritePair("object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\nA,101,\"g,19,0.1\nA,102,g,19,0.1\n");

        var open = Assert.Throws<InvalidDataException>(() => LabelledSetReader.Read(_dir));
        Assert.Contains("x_lightcurves.csv: line 3: a quoted field that is never closed", open.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_dir, "x_lightcurves.csv"), "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\nA,101\n");
        var shortRow = Assert.Throws<InvalidDataException>(() => LabelledSetReader.Read(_dir));
        Assert.Contains("x_lightcurves.csv: line 3: too few columns", shortRow.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LabelledSetReader_MetadataCompressed_IsFoundAndRead()
    {
        Directory.CreateDirectory(_dir);
        using (var gz = new System.IO.Compression.GZipStream(File.Create(Path.Combine(_dir, "x_metadata.csv.gz")), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write("object_id,class,redshift\nA,SNIa,0.05\n"u8);
        }

        File.WriteAllText(Path.Combine(_dir, "x_lightcurves.csv"), "object_id,mjd,band,mag,mag_err\nA,100,g,19,0.1\n");

        var curve = Assert.Single(LabelledSetReader.Read(_dir));
        Assert.Equal("SNIa", curve.ClassName);
        Assert.Single(curve.Points);
    }

    [Fact]
    public void LabelledSetReader_BandLettersInUpperCase_AreReadAsTheLowerCaseBands()
    {
        WritePair("object_id,class\nA,SNIa\n", "object_id,mjd,band,mag,mag_err\nA,100,G,19,0.1\nA,101,R,19,0.1\nA,102,g,19,0.1\n");

        var curve = Assert.Single(LabelledSetReader.Read(_dir));
        Assert.Equal(['g', 'r', 'g'], curve.Points.Select(p => p.Band));
    }

    [Fact]
    public void LabelledCsv_Header_MatchesTheSharedFluxLayout()
    {
        using (var writer = new LabelledCsvWriter(_dir, "x"))
        {
            writer.Write(new LightCurveSimulator(new SimulationOptions()).SimulateOne(0));
            writer.Complete();
        }

        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(_dir, "x_lightcurves.csv.gz")), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        Assert.Equal("object_id,mjd,band,flux,flux_err,detected", reader.ReadLine());
        Assert.StartsWith("object_id,class,redshift,host_photoz,mwebv,peak_mag,n_obs,n_det", File.ReadLines(Path.Combine(_dir, "x_metadata.csv")).First(), StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void LabelledSetReader_RealBtsSet_ReadsMagnitudesAsFluxes()
    {
        var real = LabelledSetReader.Read(SharedData.Path("labelled", "ztf-bts"));

        Assert.Equal(1605, real.Count);
        var features = LightCurveFeatures.From(real[0]);
        Assert.Equal("TDE", features.ClassName);
        Assert.Equal(15.2769, features.PeakMag, 3);
    }

    // simulate lightcurves stopped part-way left a pair that read as a smaller labelled set (its metadata cut mid-row).
    [Fact]
    public void LabelledCsv_NotCompleted_LeavesNoFilesAndKeepsAnEarlierPair()
    {
        var curves = new LightCurveSimulator(new SimulationOptions { Seed = 4 }).Simulate(5).ToList();
        using (var writer = new LabelledCsvWriter(_dir, "ztf_sim"))
        {
            curves.ForEach(writer.Write);
            Assert.False(File.Exists(writer.LightCurvesPath));
        }

        Assert.False(Directory.Exists(_dir)); // nor the folder it made

        using (var writer = new LabelledCsvWriter(_dir, "ztf_sim"))
        {
            curves.ForEach(writer.Write);
            writer.Complete();
        }

        // A second run stopped part-way: the first run's whole pair is still there, and nothing else.
        using (var writer = new LabelledCsvWriter(_dir, "ztf_sim"))
        {
            writer.Write(curves[0]);
        }

        Assert.Equal(["ztf_sim_lightcurves.csv.gz", "ztf_sim_metadata.csv"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(5, LabelledSetReader.Read(_dir).Count);
    }

    // The metadata file could not take its name (a directory there, an immutable file) after the light curves had taken
    // theirs: exit 1 and a pair of two runs (5 new light curves beside 30 objects' metadata). Now the old pair stays whole.
    [Fact]
    public void LabelledCsv_TheSecondFileCannotTakeItsName_TheEarlierPairStaysWhole()
    {
        var curves = new LightCurveSimulator(new SimulationOptions { Seed = 4 }).Simulate(5).ToList();
        using (var writer = new LabelledCsvWriter(_dir, "ztf_sim"))
        {
            curves.ForEach(writer.Write);
            writer.Complete();
        }

        var before = Directory.GetFiles(_dir).ToDictionary(f => f, File.ReadAllBytes);
        using (var writer = new LabelledCsvWriter(_dir, "ztf_sim"))
        {
            writer.Write(curves[0]);

            // The metadata's name taken by a directory after the run began (the constructor refuses one there before).
            File.Move(writer.MetadataPath, writer.MetadataPath + ".aside");
            Directory.CreateDirectory(Path.Combine(writer.MetadataPath, "occupied"));
            Assert.ThrowsAny<IOException>(writer.Complete);
            Directory.Delete(writer.MetadataPath, recursive: true);
            File.Move(writer.MetadataPath + ".aside", writer.MetadataPath);
        }

        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), Directory.GetFiles(_dir).Order(StringComparer.Ordinal));
        Assert.All(before, kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));
        Assert.Equal(5, LabelledSetReader.Read(_dir).Count);

        // A directory where a file of the pair goes is refused before anything is written.
        var other = Path.Combine(_dir, "other");
        Directory.CreateDirectory(Path.Combine(other, "x_metadata.csv"));
        var e = Assert.Throws<IOException>(() => new LabelledCsvWriter(other, "x"));
        Assert.Contains("x_metadata.csv is a directory", e.Message, StringComparison.Ordinal);
        Assert.Equal(["x_metadata.csv"], Directory.GetFileSystemEntries(other).Select(Path.GetFileName));
    }

    [SharedDataFact]
    public void LabelledSetReader_LightCurvesCutShort_IsAnErrorNamingTheFile()
    {
        // simulate compare read half a cut *_lightcurves.csv.gz as a smaller real set, without a word.
        var source = SharedData.Path("labelled", "ztf-bts");
        Directory.CreateDirectory(_dir);
        File.Copy(Path.Combine(source, "ztf_bts_train_metadata.csv"), Path.Combine(_dir, "ztf_bts_train_metadata.csv"));
        var bytes = File.ReadAllBytes(Path.Combine(source, "ztf_bts_train_lightcurves.csv.gz"));
        var cut = Path.Combine(_dir, "ztf_bts_train_lightcurves.csv.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<InvalidDataException>(() => LabelledSetReader.Read(_dir));
        Assert.Contains(cut, e.Message, StringComparison.Ordinal);
        Assert.Contains("cut short", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KolmogorovSmirnov_IdenticalAndDisjointSamples_ZeroAndOne()
    {
        double[] a = [1, 2, 3, 4, 5];
        double[] b = [10, 11, 12];

        Assert.Equal(0, Statistics.KolmogorovSmirnov(a, a).D);
        Assert.Equal(1, Statistics.KolmogorovSmirnov(a, b).D);
        Assert.True(Statistics.KolmogorovSmirnov(a, b).PValue < 0.1);
    }

    [Fact]
    public void KolmogorovSmirnov_AnySamples_SymmetricAndWithinUnitInterval()
    {
        var sample = ArbMap.Default.GeneratorFor<int>().Select(i => (double)i).ArrayOf().Where(a => a.Length > 0);
        Prop.ForAll(sample.Zip(sample).ToArbitrary(), pair =>
        {
            var (d1, _) = Statistics.KolmogorovSmirnov(pair.Item1, pair.Item2);
            var (d2, _) = Statistics.KolmogorovSmirnov(pair.Item2, pair.Item1);
            return d1 == d2 && d1 is >= 0 and <= 1;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ComparisonReport_Write_ProducesReportAndOneFigurePerQuantity()
    {
        var sim = new LightCurveSimulator(new SimulationOptions { Seed = 8 }).Simulate(100).Select(LightCurveFeatures.From).ToList();
        var report = new ComparisonReport(sim.Take(50), sim.Skip(50), ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"]);

        var path = report.Write(_dir, "test");

        Assert.Contains("| SNIa | peak_mag |", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(LightCurveFeatures.Quantities.Count, Directory.GetFiles(_dir, "*.svg").Length);
        Assert.All(report.Rows, r => Assert.True(double.IsNaN(r.KsDistance) || r.KsDistance is >= 0 and <= 1));
    }
}
