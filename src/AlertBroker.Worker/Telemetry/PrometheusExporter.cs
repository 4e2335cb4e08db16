using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace AlertBroker.Worker.Telemetry;

/// <summary>
/// A small Prometheus text-format (0.0.4) exporter over <see cref="System.Diagnostics.Metrics"/>: a <see cref="MeterListener"/>
/// aggregates the listed meters' counters (as <c>_total</c>), histograms (fixed buckets, <c>_bucket</c>/<c>_sum</c>/<c>_count</c>)
/// and observable gauges (sampled at scrape time).
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] s_buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly double[] s_countBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly Lock _gaugeLock = new();
    private Dictionary<Instrument, Dictionary<string, double>>? _gaugeSink;

    public PrometheusExporter(params string[] meterNames)
    {
        var names = new HashSet<string>(meterNames, StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (names.Contains(instrument.Meter.Name))
            {
                _instruments.TryAdd(instrument, new InstrumentState(instrument));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => OnMeasurement(i, v, tags));
        _listener.Start();
    }

    /// <summary>Writes every series in Prometheus text format.</summary>
    public string Scrape()
    {
        var gauges = new Dictionary<Instrument, Dictionary<string, double>>();
        lock (_gaugeLock)
        {
            _gaugeSink = gauges;
            _listener.RecordObservableInstruments();
            _gaugeSink = null;
        }

        var sb = new StringBuilder(4096);
        foreach (var state in _instruments.Values)
        {
            var i = state.Instrument;
            var name = Sanitize(i.Name) + UnitSuffix(i.Unit);
            var isCounter = i.GetType().Name.StartsWith("Counter", StringComparison.Ordinal);
            var isHistogram = i.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
            if (isCounter)
            {
                Header(sb, name + "_total", i.Description, "counter");
                foreach (var (labels, series) in state.Series)
                {
                    Line(sb, name + "_total", labels, series.Sum);
                }
            }
            else if (isHistogram)
            {
                Header(sb, name, i.Description, "histogram");
                foreach (var (labels, series) in state.Series)
                {
                    lock (series)
                    {
                        long cumulative = 0;
                        for (var b = 0; b < series.Bounds.Length; b++)
                        {
                            cumulative += series.Buckets[b];
                            Line(sb, name + "_bucket", Join(labels, "le=\"" + Format(series.Bounds[b]) + "\""), cumulative);
                        }

                        Line(sb, name + "_bucket", Join(labels, "le=\"+Inf\""), series.Count);
                        Line(sb, name + "_sum", labels, series.Sum);
                        Line(sb, name + "_count", labels, series.Count);
                    }
                }
            }
            else if (gauges.TryGetValue(i, out var values))
            {
                Header(sb, name, i.Description, "gauge");
                foreach (var (labels, value) in values)
                {
                    Line(sb, name, labels, value);
                }
            }
        }

        return sb.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        if (instrument.IsObservable)
        {
            var sink = _gaugeSink;
            if (sink is not null)
            {
                if (!sink.TryGetValue(instrument, out var values))
                {
                    values = [];
                    sink[instrument] = values;
                }

                values[labels] = value;
            }

            return;
        }

        if (!_instruments.TryGetValue(instrument, out var state))
        {
            return;
        }

        var series = state.Series.GetOrAdd(labels, static (_, s) => new Series(s.Bounds), state);
        lock (series)
        {
            series.Sum += value;
            series.Count++;
            if (series.Bounds.Length > 0)
            {
                var b = 0;
                while (b < series.Bounds.Length && value > series.Bounds[b])
                {
                    b++;
                }

                if (b < series.Bounds.Length)
                {
                    series.Buckets[b]++;
                }
            }
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var sb = new StringBuilder();
        foreach (var t in tags)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(Sanitize(t.Key)).Append("=\"")
                .Append(Convert.ToString(t.Value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
                .Append('"');
        }

        return sb.ToString();
    }

    private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

    private static void Header(StringBuilder sb, string name, string? help, string type)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help ?? string.Empty).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void Line(StringBuilder sb, string name, string labels, double value)
    {
        sb.Append(name);
        if (labels.Length > 0)
        {
            sb.Append('{').Append(labels).Append('}');
        }

        sb.Append(' ').Append(Format(value)).Append('\n');
    }

    private static string Format(double v) => double.IsPositiveInfinity(v) ? "+Inf" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string UnitSuffix(string? unit) => unit switch
    {
        "s" => "_seconds",
        _ => string.Empty,
    };

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_')
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private sealed class InstrumentState(Instrument instrument)
    {
        public Instrument Instrument { get; } = instrument;

        public double[] Bounds { get; } = instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal)
            ? (instrument.Unit == "s" ? s_buckets : s_countBuckets)
            : [];

        public ConcurrentDictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Series(double[] bounds)
    {
        public double[] Bounds { get; } = bounds;

        public long[] Buckets { get; } = new long[bounds.Length];

        public double Sum { get; set; }

        public long Count { get; set; }
    }
}
