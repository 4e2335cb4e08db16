using System.Diagnostics;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;

namespace AlertBroker.Cli.Replay;

/// <summary>Options for one replay.</summary>
internal sealed record ReplayOptions
{
    /// <summary>Alerts per second to pace at; 0 = as fast as possible.</summary>
    public double Rate { get; init; }

    /// <summary>How many times to go through the inputs (the first pass reads from disk, later ones from memory).</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>Stop after this many alerts (0 = no limit).</summary>
    public long Limit { get; init; }

    /// <summary>Write each normalised alert as one JSON line here.</summary>
    public string? OutPath { get; init; }
}

/// <summary>Decodes and normalises everything under a set of paths, as fast as it can or at a given rate.</summary>
internal sealed class AlertReplayer(AlertDecoder decoder, ReplayOptions options)
{
    /// <summary>Called now and then with the running totals (from the replaying thread).</summary>
    public Action<ReplayStatistics>? Progress { get; init; }

    public ReplayStatistics Run(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var stats = new ReplayStatistics();
        var alerts = new List<Alert>(4);
        using var outStream = options.OutPath is null ? null : new FileStream(options.OutPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        using var json = outStream is null ? null : new Utf8JsonWriter(outStream);
        var clock = Stopwatch.StartNew();
        var lastProgress = 0L;

        // Later passes replay from memory so that --repeat measures decoding, not the disk.
        List<(string Source, byte[] Payload)>? cached = options.Repeat > 1 ? [] : null;

        bool Process(string source, ReadOnlyMemory<byte> payload)
        {
            stats.AddMessage(payload.Length);
            alerts.Clear();
            try
            {
                decoder.Decode(payload, alerts);
            }
            catch (AlertFormatException e)
            {
                stats.AddError(source, e);
            }

            foreach (var alert in alerts)
            {
                // One message can hold many alerts (a container file of a night): the limit counts alerts, not messages.
                if (options.Limit > 0 && stats.Alerts >= options.Limit)
                {
                    break;
                }

                stats.AddAlert(alert);
                if (json is not null)
                {
                    AlertJson.Write(json, alert);
                    json.Flush();
                    outStream!.WriteByte((byte)'\n');
                    json.Reset();
                }

                Pace(stats.Alerts, clock, cancellationToken);
            }

            if (Progress is not null && clock.ElapsedMilliseconds - lastProgress >= 250)
            {
                lastProgress = clock.ElapsedMilliseconds;
                stats.Elapsed = clock.Elapsed;
                Progress(stats);
            }

            return options.Limit <= 0 || stats.Alerts < options.Limit;
        }

        // The limit ends every pass, the first included (a later pass after it went one alert over): a flag, not
        // "pass = Repeat", whose pass++ overflowed at --repeat 2147483647 and went round for ever.
        var limitReached = false;
        try
        {
            Replay();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped (Ctrl-C, SIGTERM): the totals so far are the report; every line written to --out is whole.
            stats.Stopped = true;
        }

        stats.Elapsed = clock.Elapsed;
        return stats;

        void Replay()
        {
            foreach (var input in AlertArchiveReader.Read(paths, cancellationToken))
            {
                if (input.Error is not null)
                {
                    stats.AddError(input.Source, input.Error);
                    continue;
                }

                cached?.Add((input.Source, input.Payload.ToArray()));
                if (!Process(input.Source, input.Payload))
                {
                    limitReached = true;
                    break;
                }
            }

            for (var pass = 1; cached is not null && !limitReached && pass < options.Repeat; pass++)
            {
                foreach (var (source, payload) in cached)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!Process(source, payload))
                    {
                        limitReached = true;
                        break;
                    }
                }
            }
        }
    }

    private void Pace(long alertsSoFar, Stopwatch clock, CancellationToken cancellationToken)
    {
        if (options.Rate <= 0)
        {
            return;
        }

        // In seconds, and waited in pieces of at most an hour: a wait handle takes at most int.MaxValue ms, and a TimeSpan
        // of alerts/rate can overflow.
        var ahead = (alertsSoFar / options.Rate) - clock.Elapsed.TotalSeconds;
        while (ahead > 0.001)
        {
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Min(ahead, 3600)));
            cancellationToken.ThrowIfCancellationRequested();
            ahead = (alertsSoFar / options.Rate) - clock.Elapsed.TotalSeconds;
        }
    }
}
