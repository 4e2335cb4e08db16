using System.Globalization;
using CsvHelper;

namespace AlertBroker.Alerts.Csv;

/// <summary>
/// A CSV file's records as RFC 4180 has them, cut into cells, for every reader of the project's CSV files: the trainer's
/// light curves and metadata (AlertBroker.Training), the simulator's comparison with real light curves
/// (AlertBroker.Simulation) and the worker's metadata sources (AlertBroker.Worker). The parsing is CsvHelper's
/// (<see cref="CsvReader"/>; docs/dependencies.md); this class fixes the options every reader wants and words its errors
/// the project's way: the file and the line.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A record is one line unless a quoted cell holds a line break; <c>""</c> inside a quoted cell is a quote. Files
/// written with every cell quoted (pandas <c>QUOTE_ALL</c>, spreadsheets) read the same as plain ones.</item>
/// <item>Spaces and tabs around a cell are dropped (<c>"object_id", mjd</c> names <c>object_id</c> and <c>mjd</c>); inside
/// quotes they are kept. Empty lines are skipped. Lines end in CRLF, LF or CR.</item>
/// <item>Malformed quoting (a quote inside an unquoted cell, text after a closing quote, a quote still open at the end of
/// the file) is an error, not a guess.</item>
/// <item>A record is bounded (<see cref="MaxRecordBytes"/>, UTF-8 bytes): an unterminated quote would otherwise make the
/// rest of the file one record, and so would one physical line without a line break (a 2 GB line, a binary file given as
/// CSV). The reader refuses it once its buffer would grow past the limit (the buffer never passes about twice the limit),
/// never reading it whole first.</item>
/// </list>
/// Every refusal is an <see cref="InvalidDataException"/> (what the readers throw for a malformed file) naming the file and
/// the line where the record starts; so is text that is not UTF-8 where the <see cref="TextReader"/> decodes strictly
/// (<see cref="StrictUtf8"/>), named with the last line read. The reader reads ahead of the record it returns: read the <see cref="TextReader"/>
/// through it alone. Disposing it leaves the <see cref="TextReader"/> open.
/// </remarks>
public sealed class CsvRecordReader : IDisposable
{
    /// <summary>UTF-8 that throws on an invalid byte sequence (no byte order mark written): for readers that must not guess.</summary>
    public static System.Text.Encoding StrictUtf8 { get; } = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The longest record read, in UTF-8 bytes: 1 MiB.</summary>
    public const int DefaultMaxRecordBytes = 1 << 20;

    private readonly TextReader _text;
    private CsvReader? _csv;
    private bool _atEnd;

    /// <param name="reader">The text, read from its current position (line 1 there).</param>
    /// <param name="path">The file, for error messages.</param>
    public CsvRecordReader(TextReader reader, string path)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(path);
        _text = reader;
        Path = path;
    }

    /// <summary>The file the records come from, as error messages name it.</summary>
    public string Path { get; }

    /// <summary>The physical line (1-based) where the record last returned starts; 0 before the first.</summary>
    public long Line { get; private set; }

    /// <summary>The longest record accepted, in UTF-8 bytes (set before the first read).</summary>
    public int MaxRecordBytes { get; init; } = DefaultMaxRecordBytes;

    /// <summary>The next record's cells (spaces around each dropped), or null at the end of the file.</summary>
    /// <exception cref="InvalidDataException">malformed quoting, or a record longer than <see cref="MaxRecordBytes"/>.</exception>
    public string[]? ReadFields()
    {
        if (_atEnd)
        {
            return null;
        }

        var csv = _csv ??= CsvReader.Create(_text, new CsvReaderOptions
        {
            HasHeader = false,
            Separator = ',', // CsvHelper guesses among , ; tab | when it is not set: a light curve with tabs in a cell read as tab-separated
            MalformedData = CsvMalformedDataHandling.Throw,
            MaxRecordSize = MaxRecordBytes,
            TrackLineNumbers = true,
            TrimWhitespace = true,
            SkipEmptyLines = true,
        }, leaveOpen: true);
        try
        {
            if (!csv.Read())
            {
                _atEnd = true;
                return null;
            }

            Line = csv.LineNumber;
            var cells = new string[csv.FieldCount];
            for (var i = 0; i < cells.Length; i++)
            {
                cells[i] = csv.GetString(i);
            }

            return cells;
        }
        catch (CsvFormatException e)
        {
            _atEnd = true;
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}: line {e.LineNumber}: {Reason(e)}"), e);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            // A reader opened with strict UTF-8 (the trainer's): Latin-1 ids decoded with replacement characters merged
            // distinct objects ('SN\xe91' and 'SN\xe81' both 'SN\ufffd1').
            _atEnd = true;
            var bytes = e.BytesUnknown is { Length: > 0 } b ? " (bytes " + Convert.ToHexString(b) + ")" : string.Empty;
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}: not UTF-8 text{bytes}{(Line > 0 ? $" after line {Line}" : string.Empty)}; save the file as UTF-8"), e);
        }
    }

    /// <summary>The first record's cells (a UTF-8 byte order mark dropped): the header every reader starts with.</summary>
    /// <remarks>
    /// A name given to two columns is refused: every reader takes the first, so a second <c>mag</c> or <c>class</c> (a
    /// join that kept both sides, a column pasted twice) was read or ignored without a word, whichever held the values
    /// meant. Empty names (an unnamed index column, a trailing comma) may repeat: no reader looks them up.
    /// </remarks>
    /// <exception cref="InvalidDataException">the file is empty, its first record is malformed or too long, or it names a column twice.</exception>
    public string[] ReadHeader()
    {
        var header = ReadFields() ?? throw new InvalidDataException($"{Path} is empty.");
        if (header.Length > 0)
        {
            header[0] = header[0].TrimStart('\uFEFF').Trim();
        }

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

    /// <summary>Gives back the parser's buffers; the <see cref="TextReader"/> stays open.</summary>
    public void Dispose()
    {
        _csv?.Dispose();
        _csv = null;
        _atEnd = true;
    }

    // CsvHelper's message names the record and line itself ("Malformed CSV in record 2 (line 2): a quoted field that is
    // never closed (byte offset 16)."); the line is already in ours, the reason is what is left.
    private string Reason(CsvFormatException e)
    {
        var message = e.Message;
        if (message.Contains("MaxRecordSize", StringComparison.Ordinal))
        {
            return string.Create(CultureInfo.InvariantCulture, $"the record starting there is longer than {MaxRecordBytes} bytes (a quoted cell not closed?)");
        }

        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return (cut >= 0 ? message[(cut + 3)..] : message) + " (RFC 4180: a cell with a quote, comma or line break is quoted whole, a quote inside it doubled)";
    }
}
