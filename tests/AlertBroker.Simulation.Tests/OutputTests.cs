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

    // The objects of the ztf_sim pair in _dir, counted in both files: its metadata rows, each an object of the light-curve
    // file, which reads to its end and holds no other object. (The pair is read as a labelled set by the trainer's reader,
    // tested with the CLI's conversion in tests/AlertBroker.Cli.Tests.)
    private int ObjectsInPair()
    {
        var metadata = File.ReadLines(Path.Combine(_dir, "ztf_sim_metadata.csv")).Skip(1).Select(l => l.Split(',')[0]).ToHashSet(StringComparer.Ordinal);
        var observed = new HashSet<string>(StringComparer.Ordinal);
        using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(_dir, "ztf_sim_lightcurves.csv.gz")), System.IO.Compression.CompressionMode.Decompress))
        using (var reader = new StreamReader(gz))
        {
            reader.ReadLine();
            while (reader.ReadLine() is { } line)
            {
                observed.Add(line.Split(',')[0]);
            }
        }

        Assert.Equal(metadata.Order(StringComparer.Ordinal), observed.Order(StringComparer.Ordinal));
        return metadata.Count;
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
        Assert.Equal(5, ObjectsInPair());
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
        Assert.Equal(5, ObjectsInPair());

        // A directory where a file of the pair goes is refused before anything is written.
        var other = Path.Combine(_dir, "other");
        Directory.CreateDirectory(Path.Combine(other, "x_metadata.csv"));
        var e = Assert.Throws<IOException>(() => new LabelledCsvWriter(other, "x"));
        Assert.Contains("x_metadata.csv is a directory", e.Message, StringComparison.Ordinal);
        Assert.Equal(["x_metadata.csv"], Directory.GetFileSystemEntries(other).Select(Path.GetFileName));
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
