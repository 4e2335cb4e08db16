using System.Diagnostics.Metrics;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Telemetry;
using Confluent.Kafka;

namespace AlertBroker.Worker.Tests;

/// <summary>The process runs on the librdkafka of the librdkafka.redist package, never on a system one.</summary>
public sealed class KafkaNativeLibraryTests
{
    [Fact]
    public void Load_InTestProcess_LoadsPackagedLibraryOfAtLeast2_16()
    {
        var version = KafkaNativeLibrary.Load();

        Assert.Equal(Library.VersionString, version);
        Assert.True(Library.Version >= KafkaNativeLibrary.MinimumVersion, $"librdkafka {Library.VersionString} (0x{Library.Version:x8}) is older than 2.16.0");
        var parts = version.Split('.');
        Assert.True(new Version(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)) >= new Version(2, 16), version);
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(KafkaNativeLibrary.LoadedPath);
            Assert.StartsWith(Path.GetFullPath(AppContext.BaseDirectory), KafkaNativeLibrary.LoadedPath, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Load_InTestProcess_MapsOnlyThePackagedFileEvenWithASystemLibrdkafka()
    {
        KafkaNativeLibrary.Load();

        // Use the library so that every import is bound, then look at what the process has mapped.
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = "127.0.0.1:1" }).SetLogHandler((_, _) => { }).Build())
        {
            Assert.StartsWith("rdkafka#producer", producer.Name, StringComparison.Ordinal);
        }

        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var mapped = KafkaNativeLibrary.MappedFiles();
        Assert.Equal([KafkaNativeLibrary.LoadedPath!], mapped);
        Assert.DoesNotContain(mapped, f => f.StartsWith("/usr/", StringComparison.Ordinal) || f.StartsWith("/lib", StringComparison.Ordinal));
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.EndsWith("centos8-librdkafka.so", KafkaNativeLibrary.LoadedPath, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Candidates_OnLinuxX64_CoverRidSpecificThenPortableLayout()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            return;
        }

        var candidates = KafkaNativeLibrary.Candidates();
        var baseDir = Path.GetFullPath(AppContext.BaseDirectory);
        var flat = Path.Combine(baseDir, "centos8-librdkafka.so");
        var portable = Path.Combine(baseDir, "runtimes", "linux-x64", "native", "centos8-librdkafka.so");
        Assert.Contains(flat, candidates);
        Assert.Contains(portable, candidates);
        Assert.True(candidates.ToList().IndexOf(flat) < candidates.ToList().IndexOf(portable));
        Assert.DoesNotContain(candidates, c => c.StartsWith("/usr/lib", StringComparison.Ordinal) || c.StartsWith("/lib", StringComparison.Ordinal));
        Assert.All(candidates, c => Assert.DoesNotMatch(@"(^|/)librdkafka\.so", c));
    }

    [Fact]
    public void Candidates_SelfContainedApplication_LookInTheApplicationsOwnFolder()
    {
        // Self-contained (dotnet publish --self-contained): the .NET runtime is the application's folder. That folder was
        // left out as "the runtime's", so only runtimes/linux-x64/native/ was looked in and the published program found no
        // librdkafka (seen on the GPU machine: "the packaged librdkafka was not found").
        var app = Path.Combine(Path.GetTempPath(), "ab-app");
        var selfContained = KafkaNativeLibrary.Candidates(app + "/", app, app, null, System.Runtime.InteropServices.Architecture.X64, "linux-x64");
        Assert.Equal(Path.Combine(app, "centos8-librdkafka.so"), selfContained[0]);

        // Framework-dependent: the shared runtime's folder is still never looked in, the application's always.
        var shared = "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0";
        var dependent = KafkaNativeLibrary.Candidates(app + "/", app, shared + "/", shared, System.Runtime.InteropServices.Architecture.X64, "linux-x64");
        Assert.Equal(
            [Path.Combine(app, "centos8-librdkafka.so"), Path.Combine(app, "runtimes", "linux-x64", "native", "centos8-librdkafka.so")],
            dependent);
    }

    [Fact]
    public void WorkerMetrics_AfterLoad_ReportsLibrdkafkaVersionAsInfoGauge()
    {
        var version = KafkaNativeLibrary.Load();
        using var metrics = new WorkerMetrics();
        var seen = new List<(int Value, string? Version)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "alertbroker.librdkafka.info")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            string? v = null;
            foreach (var t in tags)
            {
                if (t.Key == "version")
                {
                    v = t.Value as string;
                }
            }

            seen.Add((value, v));
        });
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Contains((1, version), seen);
    }
}
