using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker bench …</c>: end-to-end throughput figures for docs/performance.md.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput end to end.");
        bench.Subcommands.Add(CreateDecode());
        return bench;
    }

    private static Command CreateDecode()
    {
        var paths = new Argument<string[]>("paths") { Description = "Alert files or directories (default: ../shared/alert-samples/ztf-real-50).", Arity = ArgumentArity.ZeroOrMore };
        var seconds = new Option<double>("--seconds") { Description = "How long to measure.", DefaultValueFactory = _ => 10 };
        var command = new Command("decode", "Decode alert messages one by one, as they arrive from Kafka, into Alerts on one thread; report alerts/s, MB/s and bytes allocated per alert.")
        {
            paths, seconds,
        };
        command.SetAction(parse =>
        {
            var given = parse.GetValue(paths) ?? [];
            if (given.Length == 0)
            {
                var shared = CliHelpers.FindSharedDirectory();
                if (shared is null)
                {
                    CliHelpers.Stderr.MarkupLine("[red]no inputs[/]: pass alert files or directories");
                    return 1;
                }

                given = [Path.Combine(shared, "alert-samples", "ztf-real-50")];
            }

            var messages = new List<byte[]>();
            foreach (var input in AlertArchiveReader.Read(given))
            {
                if (input.Error is null)
                {
                    messages.Add(input.Payload.ToArray());
                }
            }

            if (messages.Count == 0)
            {
                CliHelpers.Stderr.MarkupLine("[red]no messages read[/]");
                return 1;
            }

            var result = MeasureDecode(messages, TimeSpan.FromSeconds(parse.GetValue(seconds)));
            var inv = CultureInfo.InvariantCulture;
            AnsiConsole.WriteLine(string.Create(inv, $"messages: {messages.Count} distinct, mean {result.Bytes / (double)result.Messages / 1024:F1} KiB"));
            AnsiConsole.WriteLine(string.Create(inv, $"decoded:  {result.Alerts:N0} alerts in {result.Elapsed.TotalSeconds:F2} s on one thread"));
            AnsiConsole.WriteLine(string.Create(inv, $"rate:     {result.Alerts / result.Elapsed.TotalSeconds:N0} alerts/s, {result.Bytes / 1e6 / result.Elapsed.TotalSeconds:N0} MB/s"));
            AnsiConsole.WriteLine(string.Create(inv, $"alloc:    {result.AllocatedBytes / (double)result.Alerts:N0} bytes per alert"));
            return 0;
        });
        return command;
    }

    internal readonly record struct DecodeResult(long Messages, long Alerts, long Bytes, long AllocatedBytes, TimeSpan Elapsed);

    /// <summary>Warm up, then decode the messages round-robin for the given time.</summary>
    internal static DecodeResult MeasureDecode(IReadOnlyList<byte[]> messages, TimeSpan duration)
    {
        var decoder = new AlertDecoder();
        var output = new List<Alert>(4);
        for (var i = 0; i < 2000; i++)
        {
            output.Clear();
            decoder.Decode(messages[i % messages.Count], output);
        }

        long alerts = 0, bytes = 0, count = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            for (var i = 0; i < messages.Count; i++)
            {
                output.Clear();
                alerts += decoder.Decode(messages[i], output);
                bytes += messages[i].Length;
            }

            count += messages.Count;
        }

        clock.Stop();
        return new DecodeResult(count, alerts, bytes, GC.GetAllocatedBytesForCurrentThread() - allocated, clock.Elapsed);
    }
}
