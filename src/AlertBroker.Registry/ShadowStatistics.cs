using System.Globalization;

namespace AlertBroker.Registry;

/// <summary>
/// One comparison the shadow statistics are kept for: a survey's candidate (the shadow model) against the active model it
/// was scored beside, both named by <see cref="ActivePointer.ShortIdentity"/>. A new candidate, or a new active model,
/// starts a new comparison.
/// </summary>
public readonly record struct ShadowPair(string Survey, string Candidate, string Active)
{
    public static ShadowPair Of(string survey, ActivePointer shadow, ActivePointer active)
    {
        ArgumentNullException.ThrowIfNull(shadow);
        ArgumentNullException.ThrowIfNull(active);
        return new(survey, shadow.ShortIdentity, active.ShortIdentity);
    }

    public override string ToString() => $"{Survey}: {Candidate} vs {Active}";
}

/// <summary>
/// Agreement between a shadow candidate and the active model on the same alerts, aggregated over every worker: alerts
/// compared, top-class agreement, mean |Δp| per class, and, for alerts whose object has a label (the survey's
/// <c>label</c> source), each model's one-vs-rest AUROC per class and their macro means.
/// </summary>
/// <remarks>
/// Stored as a flat map of additive fields (Redis hash fields updated with HINCRBYFLOAT; a JSON object in the directory
/// registry), so workers flush their increments without reading first: <c>alerts</c>, <c>agreed</c>, <c>labelled</c>,
/// <c>dp:CLASS</c> (Σ|Δp| over alerts, for classes both models have), and histograms <c>roc:c|a:CLASS:p|n:BIN</c> of each
/// model's probability for the class over labelled positives and negatives. AUROC is computed from those histograms:
/// <see cref="Bins"/> bins of 0.1 in logit(p) over [−10, 10] (clipped), pairs in one bin counted as ties (½). That is
/// exact for pairs in different bins; the tests check it against the exact AUROC to 0.01.
/// </remarks>
public sealed class ShadowStatistics
{
    /// <summary>Histogram bins over logit(p) ∈ [−10, 10].</summary>
    public const int Bins = 200;

    private const double LogitRange = 10;

    private ShadowStatistics(ShadowPair pair, IReadOnlyDictionary<string, double> fields)
    {
        Pair = pair;
        Fields = fields;
        Alerts = (long)fields.GetValueOrDefault("alerts");
        Agreed = (long)fields.GetValueOrDefault("agreed");
        Labelled = (long)fields.GetValueOrDefault("labelled");
        var dp = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var histograms = new Dictionary<(char Role, string Class), (double[] Pos, double[] Neg)>();
        foreach (var (key, value) in fields)
        {
            if (key.StartsWith("dp:", StringComparison.Ordinal))
            {
                dp[key[3..]] = Alerts > 0 ? value / Alerts : double.NaN;
            }
            else if (TryParseHistogramField(key, out var role, out var cls, out var positive, out var bin))
            {
                if (!histograms.TryGetValue((role, cls), out var h))
                {
                    h = (new double[Bins], new double[Bins]);
                    histograms[(role, cls)] = h;
                }

                (positive ? h.Pos : h.Neg)[bin] += value;
            }
        }

        MeanAbsDiff = dp;
        CandidateAuroc = Aurocs(histograms, 'c');
        ActiveAuroc = Aurocs(histograms, 'a');
    }

    public ShadowPair Pair { get; }

    /// <summary>The stored additive fields.</summary>
    public IReadOnlyDictionary<string, double> Fields { get; }

    /// <summary>Alerts both models classified (scoring other than NONE).</summary>
    public long Alerts { get; }

    /// <summary>Of those, alerts whose top class was the same.</summary>
    public long Agreed { get; }

    /// <summary>Of those, alerts whose object had a label among the classes.</summary>
    public long Labelled { get; }

    /// <summary>Top-class agreement, <see cref="Agreed"/> / <see cref="Alerts"/> (NaN before any alert).</summary>
    public double Agreement => Alerts > 0 ? (double)Agreed / Alerts : double.NaN;

    /// <summary>Mean |p_candidate − p_active| per class (classes both models have).</summary>
    public IReadOnlyDictionary<string, double> MeanAbsDiff { get; }

    /// <summary>The candidate's one-vs-rest AUROC per class with both labelled positives and negatives.</summary>
    public IReadOnlyDictionary<string, double> CandidateAuroc { get; }

    /// <summary>The active model's one-vs-rest AUROC per class with both labelled positives and negatives.</summary>
    public IReadOnlyDictionary<string, double> ActiveAuroc { get; }

    /// <summary>Mean of <see cref="CandidateAuroc"/> (NaN without labels).</summary>
    public double CandidateMacroAuroc => Mean(CandidateAuroc);

    /// <summary>Mean of <see cref="ActiveAuroc"/> (NaN without labels).</summary>
    public double ActiveMacroAuroc => Mean(ActiveAuroc);

    public static ShadowStatistics FromFields(ShadowPair pair, IReadOnlyDictionary<string, double> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new(pair, fields);
    }

    /// <summary>
    /// The statistics of a record read back from <paramref name="source"/> (a Redis hash or a file, named in the error): a
    /// record holding what no worker writes (<see cref="Problem"/>) is a damaged record, a <see cref="RegistryException"/>.
    /// </summary>
    /// <remarks>
    /// Until 2026-12-07 such a record was read as it was: <c>models status</c>, the web view and the workers' gauges showed
    /// an agreement of 150% or −3 alerts compared, and <c>models promote --min-agreement</c> passed on agreed &gt; alerts.
    /// </remarks>
    public static ShadowStatistics Read(ShadowPair pair, IReadOnlyDictionary<string, double> fields, string source)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return Problem(fields) is { } problem
            ? throw new RegistryException($"registry record {source} is not valid shadow statistics: {problem}: repair it, or remove it to start the comparison again") { DamagedRecord = true }
            : new(pair, fields);
    }

    /// <summary>
    /// What stored fields hold that no worker writes, or null: a value that is not finite; a count (<c>alerts</c>,
    /// <c>agreed</c>, <c>labelled</c>, a histogram bin) that is negative, not whole, or above 2^53 (where adding 1 no longer
    /// changes it: an overflow); more agreed or labelled alerts than alerts; a Σ|Δp| that is negative or above the alerts
    /// (a mean |Δp| outside [0, 1]); a class histogram that counts more alerts than were labelled.
    /// </summary>
    public static string? Problem(IReadOnlyDictionary<string, double> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var inv = CultureInfo.InvariantCulture;
        foreach (var (key, value) in fields)
        {
            if (!double.IsFinite(value))
            {
                return $"field \"{key}\" is {value.ToString(inv)}";
            }
        }

        double alerts = fields.GetValueOrDefault("alerts"), agreed = fields.GetValueOrDefault("agreed"), labelled = fields.GetValueOrDefault("labelled");
        if ((CountProblem("alerts", alerts) ?? CountProblem("agreed", agreed) ?? CountProblem("labelled", labelled)) is { } count)
        {
            return count;
        }

        if (agreed > alerts)
        {
            return string.Create(inv, $"\"agreed\" ({agreed}) is greater than \"alerts\" ({alerts})");
        }

        if (labelled > alerts)
        {
            return string.Create(inv, $"\"labelled\" ({labelled}) is greater than \"alerts\" ({alerts})");
        }

        var histograms = new Dictionary<(char Role, string Class), double>();
        foreach (var (key, value) in fields)
        {
            if (key.StartsWith("dp:", StringComparison.Ordinal))
            {
                // Each alert adds |Δp| ≤ 1; the slack covers the rounding of a long sum.
                if (value < 0 || value > (alerts * (1 + 1e-9)) + 1e-6)
                {
                    return string.Create(inv, $"\"{key}\" ({value}) is {(value < 0 ? "negative" : "more than \"alerts\" (" + alerts.ToString(inv) + ")")}: a mean |Δp| outside [0, 1]");
                }
            }
            else if (TryParseHistogramField(key, out var role, out var cls, out _, out _))
            {
                if (CountProblem(key, value) is { } bin)
                {
                    return bin;
                }

                histograms[(role, cls)] = histograms.GetValueOrDefault((role, cls)) + value;
            }
        }

        foreach (var ((role, cls), total) in histograms)
        {
            // Every labelled alert adds one to each class histogram of each model (a positive or a negative).
            if (total > labelled)
            {
                return string.Create(inv, $"the {(role == 'c' ? "candidate" : "active model")}'s histogram of class {cls} counts {total} alerts, more than \"labelled\" ({labelled})");
            }
        }

        return null;
    }

    // 2^53: above it a double no longer holds every whole number, and adding one alert leaves the count as it was.
    private const double MaxCount = 9007199254740992;

    private static string? CountProblem(string field, double value) =>
        value < 0 ? string.Create(CultureInfo.InvariantCulture, $"\"{field}\" is negative ({value})")
        : value != Math.Floor(value) ? string.Create(CultureInfo.InvariantCulture, $"\"{field}\" is not a whole number ({value})")
        : value > MaxCount ? string.Create(CultureInfo.InvariantCulture, $"\"{field}\" ({value:R}) is above 2^53, where a count no longer adds up (an overflow)")
        : null;

    /// <summary>The histogram bin of a probability: 0.1-wide bins of logit(p) over [−10, 10].</summary>
    public static int Bin(float p)
    {
        var q = Math.Clamp((double)p, 1e-12, 1 - 1e-12);
        var logit = Math.Log(q / (1 - q));
        var b = (int)Math.Floor((logit + LogitRange) / (2 * LogitRange) * Bins);
        return Math.Clamp(b, 0, Bins - 1);
    }

    /// <summary>One line for <c>models status</c>.</summary>
    public string Summary()
    {
        var inv = CultureInfo.InvariantCulture;
        if (Alerts == 0)
        {
            return "no alerts compared yet";
        }

        var text = string.Create(inv, $"{Alerts:N0} alerts compared, top-class agreement {Agreement:F3}; mean |Δp| ")
            + string.Join(", ", MeanAbsDiff.Select(kv => string.Create(inv, $"{kv.Key} {kv.Value:F3}")));
        if (Labelled > 0)
        {
            text += string.Create(inv, $"; {Labelled:N0} labelled: macro AUROC candidate {CandidateMacroAuroc:F3}, active {ActiveMacroAuroc:F3}");
        }

        return text;
    }

    internal static string HistogramField(char role, string cls, bool positive, int bin) =>
        string.Create(CultureInfo.InvariantCulture, $"roc:{role}:{cls}:{(positive ? 'p' : 'n')}:{bin}");

    private static bool TryParseHistogramField(string key, out char role, out string cls, out bool positive, out int bin)
    {
        role = default;
        cls = string.Empty;
        positive = false;
        bin = 0;
        if (!key.StartsWith("roc:", StringComparison.Ordinal) || key.Length < 10 || key[5] != ':')
        {
            return false;
        }

        role = key[4];
        var last = key.LastIndexOf(':');
        var kindSep = key.LastIndexOf(':', last - 1);
        if (kindSep <= 6 || last - kindSep != 2 || !int.TryParse(key.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out bin) || bin >= Bins)
        {
            return false;
        }

        positive = key[kindSep + 1] == 'p';
        cls = key[6..kindSep];
        return role is 'c' or 'a';
    }

    private static SortedDictionary<string, double> Aurocs(Dictionary<(char Role, string Class), (double[] Pos, double[] Neg)> histograms, char role)
    {
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var ((r, cls), (pos, neg)) in histograms)
        {
            if (r != role)
            {
                continue;
            }

            double totalPos = pos.Sum(), totalNeg = neg.Sum();
            if (totalPos <= 0 || totalNeg <= 0)
            {
                continue;
            }

            // P(score of a positive > score of a negative), ties (same bin) counting one half.
            double below = 0, wins = 0;
            for (var b = 0; b < Bins; b++)
            {
                wins += pos[b] * (below + (0.5 * neg[b]));
                below += neg[b];
            }

            result[cls] = wins / (totalPos * totalNeg);
        }

        return result;
    }

    private static double Mean(IReadOnlyDictionary<string, double> values) => values.Count == 0 ? double.NaN : values.Values.Average();
}

/// <summary>
/// A worker's shadow statistics since its last flush: <see cref="Record"/> per alert both models classified,
/// <see cref="Drain"/> hands the increments to the registry (and <see cref="Restore"/> takes them back when the flush failed,
/// so nothing is lost). Thread-safe.
/// </summary>
public sealed class ShadowStatisticsAccumulator
{
    private readonly Lock _lock = new();
    private Dictionary<ShadowPair, Dictionary<string, double>> _pending = [];

    /// <summary>Whether anything waits to be flushed.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count == 0;
            }
        }
    }

    /// <summary>
    /// Adds one alert: both models' probabilities (each in its own class order) and the object's label, if any. Classes are
    /// matched by name; top-class agreement compares the names of each model's most probable class.
    /// </summary>
    public void Record(ShadowPair pair, IReadOnlyList<string> candidateClasses, ReadOnlySpan<float> candidate, IReadOnlyList<string> activeClasses, ReadOnlySpan<float> active, string? label)
    {
        ArgumentNullException.ThrowIfNull(candidateClasses);
        ArgumentNullException.ThrowIfNull(activeClasses);
        if (candidate.Length == 0 || active.Length == 0 || candidate.Length != candidateClasses.Count || active.Length != activeClasses.Count)
        {
            return;
        }

        var labelled = label is not null && (Contains(candidateClasses, label) || Contains(activeClasses, label));
        lock (_lock)
        {
            if (!_pending.TryGetValue(pair, out var f))
            {
                f = new Dictionary<string, double>(StringComparer.Ordinal);
                _pending[pair] = f;
            }

            Add(f, "alerts", 1);
            if (string.Equals(candidateClasses[ArgMax(candidate)], activeClasses[ArgMax(active)], StringComparison.Ordinal))
            {
                Add(f, "agreed", 1);
            }

            for (var i = 0; i < candidateClasses.Count; i++)
            {
                var j = IndexOf(activeClasses, candidateClasses[i]);
                if (j >= 0)
                {
                    Add(f, "dp:" + candidateClasses[i], Math.Abs(candidate[i] - active[j]));
                }
            }

            if (labelled)
            {
                Add(f, "labelled", 1);
                AddHistogram(f, 'c', candidateClasses, candidate, label!);
                AddHistogram(f, 'a', activeClasses, active, label!);
            }
        }
    }

    /// <summary>Takes everything recorded since the last drain.</summary>
    public IReadOnlyList<KeyValuePair<ShadowPair, Dictionary<string, double>>> Drain()
    {
        lock (_lock)
        {
            var drained = _pending.ToList();
            _pending = [];
            return drained;
        }
    }

    /// <summary>Puts back increments whose flush failed.</summary>
    public void Restore(IEnumerable<KeyValuePair<ShadowPair, Dictionary<string, double>>> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        lock (_lock)
        {
            foreach (var (pair, fields) in increments)
            {
                if (!_pending.TryGetValue(pair, out var f))
                {
                    _pending[pair] = fields;
                    continue;
                }

                foreach (var (k, v) in fields)
                {
                    Add(f, k, v);
                }
            }
        }
    }

    private static void AddHistogram(Dictionary<string, double> f, char role, IReadOnlyList<string> classes, ReadOnlySpan<float> p, string label)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            var positive = string.Equals(classes[i], label, StringComparison.Ordinal);
            Add(f, ShadowStatistics.HistogramField(role, classes[i], positive, ShadowStatistics.Bin(p[i])), 1);
        }
    }

    private static void Add(Dictionary<string, double> f, string key, double value) =>
        f[key] = f.GetValueOrDefault(key) + value;

    private static bool Contains(IReadOnlyList<string> classes, string name) => IndexOf(classes, name) >= 0;

    private static int IndexOf(IReadOnlyList<string> classes, string name)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static int ArgMax(ReadOnlySpan<float> p)
    {
        var best = 0;
        for (var i = 1; i < p.Length; i++)
        {
            if (p[i] > p[best])
            {
                best = i;
            }
        }

        return best;
    }
}
