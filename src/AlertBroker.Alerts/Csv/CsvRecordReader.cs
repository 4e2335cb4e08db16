using System.Globalization;
using System.Text;

namespace AlertBroker.Alerts.Csv;

/// <summary>
/// A CSV file's records as RFC 4180 has them: a record is one line unless a quoted cell holds a line break, in which case
/// the record goes on over the following lines until the quote closes (<c>""</c> inside a quoted cell is a literal quote).
/// Hand a record to <see cref="CsvLine.Split"/>: its line breaks come as <c>\n</c> (a CRLF inside a cell reads as LF).
/// A line without a quote is returned as read, with no extra work or allocation (the common case).
/// </summary>
/// <remarks>
/// A record is bounded (<see cref="MaxRecordChars"/>, <see cref="MaxRecordLines"/>): an unterminated quote would otherwise
/// make the rest of the file one record, read whole into memory. Both, and a quote still open at the end of the file, are
/// an <see cref="InvalidDataException"/> (what the readers throw for a malformed file) naming the file and the line where the
/// record starts.
/// </remarks>
public sealed class CsvRecordReader
{
    /// <summary>The longest record read (characters, the line breaks inside quoted cells included): 1 Mi.</summary>
    public const int DefaultMaxRecordChars = 1 << 20;

    /// <summary>The most physical lines one record may span: 10,000.</summary>
    public const int DefaultMaxRecordLines = 10_000;

    private readonly TextReader _reader;
    private long _nextLine = 1;
    private StringBuilder? _joined;

    /// <param name="reader">The text, read from its current position (line 1 there).</param>
    /// <param name="path">The file, for error messages.</param>
    public CsvRecordReader(TextReader reader, string path)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(path);
        _reader = reader;
        Path = path;
    }

    /// <summary>The file the records come from, as error messages name it.</summary>
    public string Path { get; }

    /// <summary>The physical line (1-based) where the record last returned by <see cref="ReadRecord"/> starts; 0 before the first.</summary>
    public long Line { get; private set; }

    /// <summary>The longest record accepted, in characters.</summary>
    public int MaxRecordChars { get; init; } = DefaultMaxRecordChars;

    /// <summary>The most physical lines a record may span.</summary>
    public int MaxRecordLines { get; init; } = DefaultMaxRecordLines;

    /// <summary>
    /// The next record (an empty string for an empty line), or null at the end of the file.
    /// </summary>
    /// <exception cref="InvalidDataException">a quoted cell is still open at the end of the file, or the record is longer than the limits.</exception>
    public string? ReadRecord()
    {
        var line = _reader.ReadLine();
        if (line is null)
        {
            return null;
        }

        Line = _nextLine++;
        var quotes = line.AsSpan().Count('"');
        if ((quotes & 1) == 0)
        {
            if (line.Length > MaxRecordChars)
            {
                throw TooLong();
            }

            return line;
        }

        // An odd number of quotes leaves a quoted cell open: each quote opens or closes one, and a doubled quote inside
        // a quoted cell ("") closes and reopens it, as CsvLine.Split reads it.
        var joined = _joined ??= new StringBuilder();
        joined.Clear().Append(line);
        var lines = 1;
        while ((quotes & 1) != 0)
        {
            if (joined.Length > MaxRecordChars || lines >= MaxRecordLines)
            {
                joined.Clear();
                throw TooLong();
            }

            var next = _reader.ReadLine();
            if (next is null)
            {
                joined.Clear();
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}: line {Line}: a quoted cell is not closed before the end of the file (the record starting there runs on over {lines} line(s)); close the quote, or double a quote inside a quoted cell (\"\")"));
            }

            _nextLine++;
            lines++;
            quotes += next.AsSpan().Count('"');
            joined.Append('\n').Append(next);
        }

        if (joined.Length > MaxRecordChars)
        {
            joined.Clear();
            throw TooLong();
        }

        var record = joined.ToString();
        if (joined.Capacity > 1 << 16)
        {
            _joined = null; // do not keep a large buffer for the rest of the file
        }

        return record;
    }

    /// <summary>The first record's cells, trimmed (<see cref="CsvLine.SplitTrimmed"/>): the header every reader starts with.</summary>
    /// <remarks>
    /// A name given to two columns is refused: every reader takes the first, so a second <c>mag</c> or <c>class</c> (a
    /// join that kept both sides, a column pasted twice) was read or ignored without a word, whichever held the values
    /// meant. Empty names (an unnamed index column, a trailing comma) may repeat: no reader looks them up.
    /// </remarks>
    /// <exception cref="InvalidDataException">the file is empty, its first record breaks the limits, or it names a column twice.</exception>
    public string[] ReadHeader()
    {
        var header = CsvLine.SplitTrimmed(ReadRecord() ?? throw new InvalidDataException($"{Path} is empty."));
        var seen = new Dictionary<string, int>(header.Length, StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            if (header[i].Length > 0 && !seen.TryAdd(header[i], i))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}: the header names the column '{header[i]}' twice (columns {seen[header[i]] + 1} and {i + 1}); which one is meant is not clear: rename or remove one."));
            }
        }

        return header;
    }

    private InvalidDataException TooLong() =>
        new(string.Create(CultureInfo.InvariantCulture, $"{Path}: line {Line}: the record starting there is longer than {MaxRecordChars} characters or {MaxRecordLines} lines (a quoted cell not closed?)"));
}
