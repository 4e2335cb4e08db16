using System.Buffers;
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
/// make the rest of the file one record, read whole into memory, and so would one physical line without a line break (a
/// file of one 2 GB line, a binary file given as CSV): lines are read through a buffer of this reader's own, refused once
/// they pass the limit, never read whole first. Both, and a quote still open at the end of the file, are an
/// <see cref="InvalidDataException"/> (what the readers throw for a malformed file) naming the file and the line where the
/// record starts. The reader reads ahead of the record it returns: read the <see cref="TextReader"/> through it alone.
/// Lines end as <see cref="TextReader.ReadLine"/> ends them: CRLF, LF or CR.
/// </remarks>
public sealed class CsvRecordReader
{
    /// <summary>The longest record read (characters, the line breaks inside quoted cells included): 1 Mi.</summary>
    public const int DefaultMaxRecordChars = 1 << 20;

    /// <summary>The most physical lines one record may span: 10,000.</summary>
    public const int DefaultMaxRecordLines = 10_000;

    // What one Read asks of the TextReader (32 KB, rented): line ends are found in it with one vectorised IndexOfAny.
    private const int BufferChars = 16 * 1024;

    private readonly TextReader _reader;
    private char[] _small = ArrayPool<char>.Shared.Rent(BufferChars); // given back at the end of the text
    private char[] _buffer;
    private int _start; // the first character not yet returned
    private int _end; // the end of the characters read
    private bool _atEnd; // the TextReader has no more
    private bool _skipLf; // the last line ended with a CR at the end of the buffer: a LF after it is part of its line break
    private long _nextLine = 1;
    private StringBuilder? _joined;

    /// <param name="reader">The text, read from its current position (line 1 there).</param>
    /// <param name="path">The file, for error messages.</param>
    public CsvRecordReader(TextReader reader, string path)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(path);
        _reader = reader;
        _buffer = _small;
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
        var previous = Line;
        Line = _nextLine; // the line a refusal names
        if (!TryReadLine(MaxRecordChars, out var start, out var length))
        {
            Line = previous;
            return null;
        }

        _nextLine++;
        var line = _buffer.AsSpan(start, length);
        var quotes = line.Count('"');
        if ((quotes & 1) == 0)
        {
            return new string(line);
        }

        // An odd number of quotes leaves a quoted cell open: each quote opens or closes one, and a doubled quote inside
        // a quoted cell ("") closes and reopens it, as CsvLine.Split reads it.
        var joined = _joined ??= new StringBuilder();
        joined.Clear().Append(line);
        var lines = 1;
        while ((quotes & 1) != 0)
        {
            if (lines >= MaxRecordLines)
            {
                joined.Clear();
                throw TooLong();
            }

            // The next line may have what is left of the record's characters after the LF that joins it.
            bool more;
            try
            {
                more = TryReadLine(MaxRecordChars - joined.Length - 1, out start, out length);
            }
            catch (InvalidDataException)
            {
                joined.Clear();
                throw;
            }

            if (!more)
            {
                joined.Clear();
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}: line {Line}: a quoted cell is not closed before the end of the file (the record starting there runs on over {lines} line(s)); close the quote, or double a quote inside a quoted cell (\"\")"));
            }

            _nextLine++;
            lines++;
            var next = _buffer.AsSpan(start, length);
            quotes += next.Count('"');
            joined.Append('\n').Append(next);
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

    /// <summary>
    /// The next physical line, its line break left out, as <c>_buffer[start..(start + length)]</c> (valid until the next
    /// call); false at the end of the text. A line longer than <paramref name="maxChars"/> is refused (<see cref="TooLong"/>)
    /// once that many characters and one more are read, whatever the rest of it.
    /// </summary>
    private bool TryReadLine(int maxChars, out int start, out int length)
    {
        if (_skipLf)
        {
            _skipLf = false;
            if (_start == _end && !_atEnd)
            {
                Fill(maxChars);
            }

            if (_start < _end && _buffer[_start] == '\n')
            {
                _start++;
            }
        }

        var scanned = 0; // characters from _start known to hold no line break
        while (true)
        {
            var found = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOfAny('\r', '\n');
            if (found >= 0)
            {
                length = scanned + found;
                if (length > maxChars)
                {
                    throw TooLong();
                }

                start = _start;
                var lineBreak = start + length;
                _start = lineBreak + 1;
                if (_buffer[lineBreak] == '\r')
                {
                    if (_start < _end)
                    {
                        if (_buffer[_start] == '\n')
                        {
                            _start++;
                        }
                    }
                    else
                    {
                        _skipLf = true;
                    }
                }

                return true;
            }

            scanned = _end - _start;
            if (_atEnd)
            {
                // The last line, without a line break (ReadLine's too); nothing left is the end.
                start = _start;
                length = scanned;
                _start = _end;
                if (length > maxChars)
                {
                    throw TooLong();
                }

                if (length > 0)
                {
                    return true;
                }

                Release();
                return false;
            }

            if (scanned > maxChars)
            {
                throw TooLong();
            }

            Fill(maxChars);
        }
    }

    /// <summary>Reads more after the characters not yet returned: moved to the buffer's start, or a larger buffer when they fill it.</summary>
    private void Fill(int maxChars)
    {
        var kept = _end - _start;
        if (_start > 0)
        {
            // Back to the small buffer once a long line is behind.
            var target = kept < _small.Length ? _small : _buffer;
            _buffer.AsSpan(_start, kept).CopyTo(target);
            _buffer = target;
        }
        else if (kept == _buffer.Length)
        {
            // A line longer than the buffer (and not over maxChars, or it would have been refused): grow to what the limit
            // needs to tell, the line and one character after it.
            var size = (int)Math.Min(Math.Min(2L * _buffer.Length, (long)maxChars + 1), Array.MaxLength);
            var larger = new char[size];
            _buffer.AsSpan(0, kept).CopyTo(larger);
            _buffer = larger;
        }

        _start = 0;
        _end = kept;
        var read = _reader.Read(_buffer.AsSpan(kept));
        if (read == 0)
        {
            _atEnd = true;
        }
        else
        {
            _end += read;
        }
    }

    /// <summary>At the end of the text: the buffer goes back to the pool (a reader left before its end leaves it to the GC).</summary>
    private void Release()
    {
        if (_small.Length > 0)
        {
            ArrayPool<char>.Shared.Return(_small);
            _small = _buffer = [];
            _start = _end = 0;
        }
    }

    private InvalidDataException TooLong() =>
        new(string.Create(CultureInfo.InvariantCulture, $"{Path}: line {Line}: the record starting there is longer than {MaxRecordChars} characters or {MaxRecordLines} lines (a quoted cell not closed?)"));
}
