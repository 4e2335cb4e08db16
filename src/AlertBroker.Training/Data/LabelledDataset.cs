using AlertBroker.Alerts;

namespace AlertBroker.Training.Data;

/// <summary>One labelled object: its observations (any order, any kinds), class and metadata (NaN = unknown).</summary>
public sealed record LabelledObject(string ObjectId, string Class, Observation[] Observations, double Redshift, double MwEbv);

/// <summary>A labelled light-curve set as read from disk, before class mapping and encoding.</summary>
public sealed class LabelledDataset
{
    public LabelledDataset(string name, IReadOnlyList<LabelledObject> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        Name = name;
        Objects = objects;
    }

    /// <summary>Where the set came from (a path or a description).</summary>
    public string Name { get; }

    public IReadOnlyList<LabelledObject> Objects { get; }

    /// <summary>Rows of the source files that were not observations and were left out, by reason (empty: none).</summary>
    public RejectedRows Rejected { get; init; } = RejectedRows.None;

    /// <summary>Objects of the source files that are not in <see cref="Objects"/> (no observation, no label), counted.</summary>
    public LeftOutObjects LeftOut { get; init; } = LeftOutObjects.None;

    /// <summary>
    /// Metadata values of the source files read as unknown because the network cannot be given them (a redshift outside
    /// 0–15, an E(B−V) outside 0–10: <see cref="AlertBroker.Model.Features.MetadataValues"/>), by column (empty: none).
    /// </summary>
    public RejectedRows UnknownMetadata { get; init; } = RejectedRows.None;

    /// <summary>Objects per class, in order of first appearance.</summary>
    public IReadOnlyDictionary<string, int> ClassCounts()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var o in Objects)
        {
            counts[o.Class] = counts.GetValueOrDefault(o.Class) + 1;
        }

        return counts;
    }

    /// <summary>Applies a class mapping: renamed classes take their new name, dropped classes leave the set.</summary>
    public LabelledDataset Map(ClassMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var list = new List<LabelledObject>(Objects.Count);
        foreach (var o in Objects)
        {
            var mapped = mapping.Map(o.Class);
            if (mapped is not null)
            {
                list.Add(mapped == o.Class ? o : o with { Class = mapped });
            }
        }

        return new LabelledDataset(Name, list) { Rejected = Rejected, LeftOut = LeftOut, UnknownMetadata = UnknownMetadata };
    }

    /// <summary>Objects at the given indices, in that order.</summary>
    public LabelledDataset Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var list = new LabelledObject[indices.Count];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = Objects[indices[i]];
        }

        return new LabelledDataset(Name, list);
    }

    /// <summary>
    /// Concatenates sets (e.g. several simulation files). An object id in two sets is refused (<see cref="InvalidDataException"/>
    /// naming both): splits and id files pick objects by id, and the same set given twice put its objects in training and
    /// test parts at once (a test AUROC of 1.000).
    /// </summary>
    public static LabelledDataset Concat(string name, IEnumerable<LabelledDataset> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var list = new List<LabelledObject>();
        var rejected = RejectedRows.None;
        var leftOut = LeftOutObjects.None;
        var unknown = RejectedRows.None;
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in sets)
        {
            foreach (var o in s.Objects)
            {
                if (!from.TryAdd(o.ObjectId, s.Name))
                {
                    throw new InvalidDataException($"object id '{o.ObjectId}' is in {from[o.ObjectId]} and in {s.Name}{(from[o.ObjectId] == s.Name ? " (given twice)" : string.Empty)}: object ids must be unique across the data sets given (splits and id files pick objects by id); give each set once, or rename one set's ids.");
                }
            }

            list.AddRange(s.Objects);
            rejected = rejected.Add(s.Rejected);
            leftOut = leftOut.Add(s.LeftOut);
            unknown = unknown.Add(s.UnknownMetadata);
        }

        return new LabelledDataset(name, list) { Rejected = rejected, LeftOut = leftOut, UnknownMetadata = unknown };
    }
}

/// <summary>
/// Rows of light-curve files left out because they are not observations, counted by reason, with the first such row
/// (file and line number) so that a user can find it. Readers skip such rows rather than fail: one bad row does not
/// lose the good ones, and the count says what was lost.
/// </summary>
public sealed record RejectedRows(IReadOnlyDictionary<string, long> ByReason, string? FirstFile, long FirstLine)
{
    /// <summary>What was left out: CSV rows, or alert messages of archives (<see cref="FirstLine"/> 0 there).</summary>
    public string Unit { get; init; } = "row";

    /// <summary>What happened to them: "left out", or "read as unknown" for metadata values.</summary>
    public string Verb { get; init; } = "left out";

    public static RejectedRows None { get; } = new(new Dictionary<string, long>(), null, 0);

    public long Total => ByReason.Values.Sum();

    /// <summary>Both counts together (the first row kept from whichever has one, this one first).</summary>
    public RejectedRows Add(RejectedRows other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Total == 0)
        {
            return this;
        }

        var merged = new Dictionary<string, long>(ByReason, StringComparer.Ordinal);
        foreach (var (reason, count) in other.ByReason)
        {
            merged[reason] = merged.GetValueOrDefault(reason) + count;
        }

        return Total > 0 ? this with { ByReason = merged } : other with { ByReason = merged };
    }

    /// <summary>One line: "12 row(s) left out (8 unknown band, 4 error not positive); the first: FILE line 731".</summary>
    public override string ToString() => Total == 0
        ? $"no {Unit}s {Verb}"
        : $"{Total} {Unit}(s) {Verb} ({string.Join(", ", ByReason.OrderByDescending(p => p.Value).Select(p => $"{p.Value} {p.Key}"))}); the first: {FirstFile}{(FirstLine > 0 ? $" line {FirstLine}" : string.Empty)}";
}

/// <summary>
/// A class-mapping: merges subtypes into classes and drops classes. Text form, one rule per line:
/// <c>from,to</c> (rename), <c>from,</c> or <c>from,-</c> (drop); <c>*,-</c> drops every class no rule names and
/// <c>*,to</c> renames every such class to <c>to</c> (an "other" class); <c>#</c> starts a comment. Classes without a rule
/// keep their name unless <c>*</c> says otherwise. A line with more than one comma, a name holding a control character,
/// or a class given two different rules is refused (<see cref="FormatException"/> naming the line): a class name cannot
/// hold a comma, and the later rule silently won.
/// </summary>
public sealed class ClassMapping
{
    private readonly Dictionary<string, string?> _rules;
    private readonly bool _dropOthers;
    private readonly string? _othersTo;

    public ClassMapping(IReadOnlyDictionary<string, string?> rules, bool dropOthers, string? othersTo = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = new Dictionary<string, string?>(rules, StringComparer.Ordinal);
        _dropOthers = dropOthers;
        _othersTo = othersTo;
    }

    public static ClassMapping Identity { get; } = new(new Dictionary<string, string?>(), dropOthers: false);

    /// <summary>The class an input class becomes, or null when it is dropped.</summary>
    public string? Map(string cls) => _rules.TryGetValue(cls, out var to) ? to : _dropOthers ? null : _othersTo ?? cls;

    public static ClassMapping Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rules = new Dictionary<string, (string? To, int Line)>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash].Trim();
            }

            if (line.Length == 0)
            {
                continue;
            }

            var comma = line.IndexOf(',', StringComparison.Ordinal);
            if (comma <= 0 || line.IndexOf(',', comma + 1) >= 0)
            {
                throw new FormatException($"Class mapping line {lineNumber}: expected 'from,to' (one comma; a class name cannot hold one), got '{Shown(raw.Trim())}'.");
            }

            var from = line[..comma].Trim();
            var to = line[(comma + 1)..].Trim();
            if (from.Length == 0 || from.Any(char.IsControl) || to.Any(char.IsControl))
            {
                throw new FormatException($"Class mapping line {lineNumber}: expected 'from,to' with class names, got '{Shown(raw.Trim())}' (an empty name or a control character).");
            }

            var target = to.Length == 0 || to == "-" ? null : to;
            if (rules.TryGetValue(from, out var earlier))
            {
                if (earlier.To != target)
                {
                    throw new FormatException($"Class mapping line {lineNumber}: '{from}' is given two rules, '{earlier.To ?? "-"}' on line {earlier.Line} and '{target ?? "-"}' here.");
                }

                continue;
            }

            rules[from] = (target, lineNumber);
        }

        var others = rules.Remove("*", out var star) ? star.To : null;
        return new ClassMapping(rules.ToDictionary(r => r.Key, r => r.Value.To, StringComparer.Ordinal), dropOthers: star.Line > 0 && others is null, othersTo: others);
    }

    /// <summary>Reads a class-mapping file; a refused line is named with the file (<see cref="FormatException"/>).</summary>
    public static ClassMapping Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    // A refused line as shown in the message: at most 80 characters, control characters as '?'.
    private static string Shown(string line)
    {
        var cut = line.Length > 80 ? line[..80] + "…" : line;
        return string.Concat(cut.Select(c => char.IsControl(c) ? '?' : c));
    }
}

/// <summary>Counts what a reader leaves out, by reason, and remembers where the first one was (<see cref="RejectedRows"/>).</summary>
public sealed class RejectionCounter
{
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private string? _firstFile;
    private long _firstLine;

    /// <summary>One more left out for <paramref name="reason"/>, in <paramref name="file"/> at <paramref name="line"/> (0: not line-based).</summary>
    public void Add(string reason, string file, long line = 0)
    {
        _counts[reason] = _counts.GetValueOrDefault(reason) + 1;
        if (_firstFile is null)
        {
            _firstFile = file;
            _firstLine = line;
        }
    }

    /// <summary>The counts so far (<see cref="RejectedRows.None"/> when nothing was left out), in units of <paramref name="unit"/>.</summary>
    public RejectedRows ToRejected(string unit = "row") =>
        _counts.Count == 0 ? RejectedRows.None : new RejectedRows(new Dictionary<string, long>(_counts, StringComparer.Ordinal), _firstFile, _firstLine) { Unit = unit };

    /// <summary>The counts as metadata values read as unknown: "3 metadata value(s) read as unknown (…); the first: FILE line 7".</summary>
    public RejectedRows ToUnknownMetadata() =>
        _counts.Count == 0 ? RejectedRows.None : ToRejected("metadata value") with { Verb = "read as unknown" };
}
