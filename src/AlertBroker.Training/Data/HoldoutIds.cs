using System.Security.Cryptography;
using System.Text;

namespace AlertBroker.Training.Data;

/// <summary>
/// A held-out test set written down as object ids: one id per line, <c>#</c> starts a comment. A committed file of
/// this kind fixes the test part of a labelled set for good (e.g. <c>data/splits/ztf-bts-test-ids.txt</c>): training,
/// fine-tuning, simulator tuning and model selection read everything else; only final evaluations read these objects.
/// </summary>
public sealed class HoldoutIds
{
    private readonly HashSet<string> _ids;

    private HoldoutIds(string source, HashSet<string> ids, string sha256)
    {
        Source = source;
        _ids = ids;
        Sha256 = sha256;
    }

    /// <summary>The file the ids came from.</summary>
    public string Source { get; }

    /// <summary>Lower-case hex SHA-256 of the file's bytes (recorded in <c>model.json</c>).</summary>
    public string Sha256 { get; }

    public int Count => _ids.Count;

    public IReadOnlySet<string> Ids => _ids;

    public bool Contains(string objectId) => _ids.Contains(objectId);

    /// <summary>Reads an id file; throws <see cref="InvalidDataException"/> when it holds no id or a duplicate.</summary>
    public static HoldoutIds Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (lineNumber, line) in Parse(Encoding.UTF8.GetString(bytes)))
        {
            if (!ids.Add(line))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: object id '{line}' is listed twice.");
            }
        }

        if (ids.Count == 0)
        {
            throw new InvalidDataException($"{path}: no object ids.");
        }

        return new HoldoutIds(path, ids, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>Whether the file holds at least one id, read as <see cref="Read"/> reads it (a command line's early check).</summary>
    public static bool HoldsIds(string path) => Parse(File.ReadAllText(path)).Any();

    // The ids of a file's text with their line numbers: '#' comments, blank lines and surrounding white space are none. A
    // BOM (Windows editors write one) is not part of the first id: left in, that id would match no object.
    private static IEnumerable<(int LineNumber, string Id)> Parse(string text)
    {
        var lineNumber = 0;
        foreach (var raw in (text.StartsWith('\uFEFF') ? text[1..] : text).Split('\n'))
        {
            lineNumber++;
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length > 0)
            {
                yield return (lineNumber, line);
            }
        }
    }

    /// <summary>Writes ids (sorted ordinally, one per line) after a comment header; returns what <see cref="Read"/> gives back.</summary>
    public static HoldoutIds Write(string path, IEnumerable<string> ids, IEnumerable<string> headerLines)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(headerLines);
        var sorted = ids.ToList();
        sorted.Sort(StringComparer.Ordinal);
        if (sorted.Select(NotWritable).FirstOrDefault(p => p is not null) is { } problem)
        {
            throw new InvalidDataException(problem);
        }

        var sb = new StringBuilder();
        foreach (var h in headerLines)
        {
            sb.Append("# ").Append(h).Append('\n');
        }

        foreach (var id in sorted)
        {
            sb.Append(id).Append('\n');
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, sb.ToString());
        return Read(path);
    }

    /// <summary>
    /// Why <paramref name="id"/> cannot be a line of an id file (null: it can): <see cref="Read"/> cuts a line at <c>#</c>
    /// and trims it, so 'OBJ#1' came back as 'OBJ' (two such ids: "listed twice", an unexpected error) and ' OBJ1 ' as
    /// 'OBJ1', another object or none.
    /// </summary>
    public static string? NotWritable(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var why = id.Length == 0 ? "it is empty"
            : id.Contains('#', StringComparison.Ordinal) ? "it holds '#', which starts a comment there"
            : id.Any(c => c is '\n' or '\r') ? "it holds a line break"
            : id.Trim().Length != id.Length ? "it starts or ends with white space, which is trimmed there"
            : null;
        return why is null ? null : $"object id '{(id.Length > 80 ? id[..80] + "…" : id).ReplaceLineEndings(" ")}' cannot be written to an id file: {why} (rename the object in the data)";
    }

    /// <summary>
    /// The rule behind the committed BTS test set: the test part of <see cref="DatasetSplit.Stratified"/> with no
    /// validation part, <paramref name="testFraction"/> and <paramref name="seed"/>, over <paramref name="data"/> in
    /// its reading order (so the same file, classes and options always give the same ids).
    /// </summary>
    public static string[] StratifiedTestIds(EncodedDataset data, double testFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var split = DatasetSplit.Stratified(data.Labels, 0, testFraction, seed);
        var ids = new string[split.Test.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = data.ObjectIdsInternal[split.Test[i]];
        }

        return ids;
    }

    /// <summary>
    /// K disjoint folds covering every object, stratified: each class's objects are shuffled with <paramref name="seed"/>
    /// and dealt round-robin, continuing where the previous class stopped, so fold sizes differ by at most one and every
    /// class with K or more objects is in every fold.
    /// </summary>
    public static string[][] StratifiedFolds(EncodedDataset data, int folds, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        var result = new List<string>[folds];
        for (var k = 0; k < folds; k++)
        {
            result[k] = [];
        }

        var random = new Training.SplitMix(seed);
        var next = 0;
        for (var c = 0; c < data.Classes.Count; c++)
        {
            var members = new List<int>();
            for (var i = 0; i < data.Count; i++)
            {
                if (data.LabelsInternal[i] == c)
                {
                    members.Add(i);
                }
            }

            var span = members.ToArray();
            random.Shuffle(span);
            foreach (var i in span)
            {
                result[next].Add(data.ObjectIdsInternal[i]);
                next = (next + 1) % folds;
            }
        }

        return [.. result.Select(r => r.ToArray())];
    }

    /// <summary>Indices of <paramref name="data"/>'s objects that are (<paramref name="inside"/> true) or are not in the set.</summary>
    public int[] Select(EncodedDataset data, bool inside)
    {
        ArgumentNullException.ThrowIfNull(data);
        var list = new List<int>();
        for (var i = 0; i < data.Count; i++)
        {
            if (_ids.Contains(data.ObjectIdsInternal[i]) == inside)
            {
                list.Add(i);
            }
        }

        return [.. list];
    }

    /// <summary>The objects of <paramref name="data"/> that are (<paramref name="inside"/> true) or are not in the set.</summary>
    public LabelledDataset Select(LabelledDataset data, bool inside)
    {
        ArgumentNullException.ThrowIfNull(data);
        var list = new List<int>();
        for (var i = 0; i < data.Objects.Count; i++)
        {
            if (_ids.Contains(data.Objects[i].ObjectId) == inside)
            {
                list.Add(i);
            }
        }

        return data.Subset(list);
    }
}
