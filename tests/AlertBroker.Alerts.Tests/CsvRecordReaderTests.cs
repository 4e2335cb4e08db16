using System.Text;
using AlertBroker.Alerts.Csv;

namespace AlertBroker.Alerts.Tests;

/// <summary>
/// CSV records as RFC 4180 has them (CsvHelper's parser, the project's options and errors): a quoted cell may hold a line
/// break, and the record then spans lines; malformed quoting and records over the limit are typed errors naming the file
/// and the line where the record starts, and a record over the limit is refused without being read whole.
/// </summary>
public class CsvRecordReaderTests
{
    [Fact]
    public void ReadFields_QuotedCellHoldingLineBreaks_IsOneRecordStartingAtItsFirstLine()
    {
        var text = "object_id,comment,z\r\nA,\"spiral host,\r\nbright \"\"core\"\"\r\n\",0.1\r\nB,plain,0.2\r\n";
        using var reader = new CsvRecordReader(new StringReader(text), "hosts.csv");

        var records = ReadAll(reader);

        Assert.Equal([1L, 2L, 5L], records.Select(r => r.Line));
        Assert.Equal(["A", "spiral host,\r\nbright \"core\"\r\n", "0.1"], records[1].Cells);
        Assert.Equal(["B", "plain", "0.2"], records[2].Cells);
    }

    [Theory]
    [InlineData("object_id,mjd,band,mag,mag_err,mag", "'mag' twice (columns 4 and 6)")]
    [InlineData("object_id, class ,\"class\"", "'class' twice (columns 2 and 3)")]
    public void ReadHeader_ANameTwice_IsAnErrorNamingTheColumns(string header, string message)
    {
        using var reader = new CsvRecordReader(new StringReader(header + "\nA,1,g,18,0.1,19\n"), "lc.csv");

        var e = Assert.Throws<InvalidDataException>(reader.ReadHeader);

        Assert.Contains("lc.csv: the header names the column " + message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeader_EmptyNamesRepeated_AreNotLookedUpAndPass()
    {
        using var reader = new CsvRecordReader(new StringReader(",object_id,class,,\n0,A,SNIa,,\n"), "meta.csv");

        Assert.Equal(["", "object_id", "class", "", ""], reader.ReadHeader());
    }

    [Theory]
    [InlineData("\uFEFFobject_id,class\n")]
    [InlineData(" \"object_id\" ,\tclass\n")]
    public void ReadHeader_ByteOrderMarkQuotesAndSpaces_AreNotPartOfTheNames(string text)
    {
        using var reader = new CsvRecordReader(new StringReader(text), "meta.csv");

        Assert.Equal(["object_id", "class"], reader.ReadHeader());
    }

    [Fact]
    public void ReadHeader_EmptyFile_IsAnErrorNamingTheFile()
    {
        using var reader = new CsvRecordReader(new StringReader("\n\n"), "meta.csv");

        var e = Assert.Throws<InvalidDataException>(reader.ReadHeader);

        Assert.Equal("meta.csv is empty.", e.Message);
    }

    [Fact]
    public void ReadFields_EmptyLinesSkippedQuotesAndSpaces_CellsAsWrittenWithTheirLines()
    {
        using var reader = new CsvRecordReader(new StringReader("a,\"b,c\"\n\n\"\",\"x\"\"y\"\n  d ,\t\" e \" \n"), "f.csv");

        Assert.Equal(["1: [\"a\",\"b,c\"]", "3: [\"\",\"x\\u0022y\"]", "4: [\"d\",\" e \"]"], Show(ReadAll(reader)));
        Assert.Null(reader.ReadFields());
    }

    [Fact]
    public void ReadFields_QuoteOpenAtTheEndOfTheFile_IsAnErrorNamingTheFileAndTheLineTheRecordStarts()
    {
        using var reader = new CsvRecordReader(new StringReader("id,comment\nA,ok\nB,\"never closed\nC,x\nD,y\n"), "hosts.csv");
        Assert.NotNull(reader.ReadFields());
        Assert.NotNull(reader.ReadFields());

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadFields());

        Assert.StartsWith("hosts.csv: line 3: a quoted field that is never closed", e.Message, StringComparison.Ordinal);
        Assert.Null(reader.ReadFields()); // nothing after a refusal: the reader does not guess where the next record starts
    }

    [Theory]
    [InlineData("h\nA,x\"y\n", "hosts.csv: line 2: a quote inside an unquoted field")]
    [InlineData("h\nA,\"x\"y,z\n", "hosts.csv: line 2: text after the closing quote of a quoted field")]
    [InlineData("h\n\nA,1\n\"B\"C\n", "hosts.csv: line 4: text after the closing quote of a quoted field")]
    public void ReadFields_MalformedQuoting_IsAnErrorNamingTheLineNotAGuess(string text, string message)
    {
        using var reader = new CsvRecordReader(new StringReader(text), "hosts.csv");

        var e = Assert.Throws<InvalidDataException>(() => ReadAll(reader));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("h\nA,\"")]
    [InlineData("h\nA,")]
    public void ReadFields_RecordOverTheLimit_IsAnErrorNamingWhereItStarts(string start)
    {
        // Over the limit and over the parser's 64 KiB buffer: a record already in the buffer is read, whatever its length.
        var text = start + new string('x', 300_000) + "\"\nB,1\n";
        using var reader = new CsvRecordReader(new StringReader(text), "f.csv") { MaxRecordBytes = 1000 };
        Assert.Equal(["h"], reader.ReadFields()!);

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadFields());

        Assert.Equal("f.csv: line 2: the record starting there is longer than 1000 bytes (a quoted cell not closed?)", e.Message);
    }

    [Fact]
    public void ReadFields_DefaultLimit_AnUnterminatedQuoteInAHugeFileIsRefusedWithoutReadingToTheEnd()
    {
        // 400,000 lines (2.4 MB) after an open quote: refused at the 1 MiB limit, not read to the end.
        var text = new StringBuilder("h\n\"open\n");
        for (var i = 0; i < 400_000; i++)
        {
            text.Append("a,b,c\n");
        }

        var counting = new CountingReader(text.ToString());
        using var reader = new CsvRecordReader(counting, "big.csv");
        reader.ReadFields();

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadFields());
        Assert.StartsWith("big.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);
        Assert.InRange(counting.CharsRead, CsvRecordReader.DefaultMaxRecordBytes, 2 * (CsvRecordReader.DefaultMaxRecordBytes + (64 * 1024)));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("h\r\nA,1\r\n", 3)]
    [InlineData("h\nA,\"two\nlines\"\r", 4)]
    public void ReadFields_PhysicalLineWithoutEnd_IsRefusedAfterReadingAboutTheLimitNotTheWholeLine(string before, int line)
    {
        // A 2 GB file of one line, a binary file given as CSV: refused once the record passes the limit, never read whole.
        var endless = new EndlessLineReader(before);
        using var reader = new CsvRecordReader(endless, "one-line.csv");

        var e = Assert.Throws<InvalidDataException>(() => ReadAll(reader));

        Assert.Equal($"one-line.csv: line {line}: the record starting there is longer than {CsvRecordReader.DefaultMaxRecordBytes} bytes (a quoted cell not closed?)", e.Message);
        Assert.InRange(endless.CharsRead, CsvRecordReader.DefaultMaxRecordBytes, 2 * (CsvRecordReader.DefaultMaxRecordBytes + (64 * 1024)));
    }

    [Fact]
    public void ReadFields_QuotedCellRunningIntoALineWithoutEnd_IsRefusedAtTheLimitNamingWhereItStarts()
    {
        var endless = new EndlessLineReader("h\nA,\"open\n" + new string('y', 1000) + "\n");
        using var reader = new CsvRecordReader(endless, "f.csv");
        reader.ReadFields();

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadFields());

        Assert.StartsWith("f.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);
        Assert.InRange(endless.CharsRead, CsvRecordReader.DefaultMaxRecordBytes, 2 * (CsvRecordReader.DefaultMaxRecordBytes + (64 * 1024)));
    }

    [Fact]
    public void ReadFields_CrLfAndCrAndLf_AreLineBreaksAsReadLineHasThem()
    {
        using var reader = new CsvRecordReader(new StringReader("a\r\nb\rc\nd\n\re\r\r\nf"), "f.csv");

        var records = ReadAll(reader);

        Assert.Equal([(1L, "a"), (2L, "b"), (3L, "c"), (4L, "d"), (6L, "e"), (8L, "f")], records.Select(r => (r.Line, Assert.Single(r.Cells))));
        Assert.Null(reader.ReadFields());
    }

    [Theory]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\r\nb", new[] { "a", "b" })]
    [InlineData("a\r\n\"b\r\nc\"", new[] { "a", "b\r\nc" })]
    [InlineData("a\n\"\"", new[] { "a", "" })]
    [InlineData("\r", new string[0])]
    public void ReadFields_LastLineWithoutALineBreak_IsARecord(string text, string[] expected)
    {
        using var reader = new CsvRecordReader(new StringReader(text), "f.csv");

        Assert.Equal(expected, ReadAll(reader).Select(r => Assert.Single(r.Cells)));
    }

    /// <summary>
    /// Property: on text without quotes, records are the lines with more than spaces and tabs, cut at commas (cells trimmed), with their numbers,
    /// whatever the line ends. Tabs in cells stay cells' (CsvHelper guesses the separator unless told: a first version read
    /// such files as tab-separated).
    /// </summary>
    [Fact]
    public void ReadFields_RandomTextWithoutQuotes_EqualsLineSplitting()
    {
        var random = new Random(4180);
        string[] ends = ["\n", "\r\n", "\r"];
        const string Alphabet = "ab9 .-\té";
        for (var trial = 0; trial < 300; trial++)
        {
            var text = new StringBuilder();
            var lines = random.Next(0, 30);
            for (var l = 0; l < lines; l++)
            {
                var cells = random.Next(0, 6);
                for (var c = 0; c < cells; c++)
                {
                    if (c > 0)
                    {
                        text.Append(',');
                    }

                    var length = random.Next(0, 8);
                    for (var k = 0; k < length; k++)
                    {
                        text.Append(Alphabet[random.Next(Alphabet.Length)]);
                    }
                }

                if (l < lines - 1 || random.Next(2) == 0)
                {
                    text.Append(ends[random.Next(ends.Length)]);
                }
            }

            var expected = new List<(long Line, string[] Cells)>();
            using (var plain = new StringReader(text.ToString()))
            {
                var number = 0L;
                while (plain.ReadLine() is { } line)
                {
                    number++;
                    if (line.Trim(' ', '\t').Length > 0) // a line of spaces and tabs only is an empty line
                    {
                        expected.Add((number, line.Split(',').Select(c => c.Trim(' ', '\t')).ToArray()));
                    }
                }
            }

            using var reader = new CsvRecordReader(new StringReader(text.ToString()), "p.csv");
            Assert.Equal(Show(expected), Show(ReadAll(reader)));
        }
    }

    /// <summary>Property: cells holding commas, quotes, spaces and line breaks, written as RFC 4180 has it, read back as written.</summary>
    [Fact]
    public void ReadFields_RandomCellsWrittenAsRfc4180_RoundTrip()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 300; trial++)
        {
            var rows = new List<string[]>();
            var text = new StringBuilder();
            for (var r = random.Next(1, 12); r > 0; r--)
            {
                var cells = new string[random.Next(1, 5)];
                for (var c = 0; c < cells.Length; c++)
                {
                    var cell = new StringBuilder();
                    for (var k = random.Next(0, 6); k > 0; k--)
                    {
                        cell.Append("a,\"\n z"[random.Next(6)]);
                    }

                    cells[c] = cell.ToString();
                }

                rows.Add(cells);
                // Quoted when it must be, and a lone empty cell too (an empty line is no record).
                text.AppendJoin(',', cells.Select(c => c.AsSpan().IndexOfAny(",\"\n ") >= 0 || cells.Length == 1 ? "\"" + c.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : c))
                    .Append(random.Next(2) == 0 ? "\n" : "\r\n");
            }

            using var reader = new CsvRecordReader(new StringReader(text.ToString()), "r.csv");
            var expectedLine = 1L;
            foreach (var row in rows)
            {
                Assert.Equal(row, reader.ReadFields());
                Assert.Equal(expectedLine, reader.Line);
                expectedLine += row.Sum(c => c.Count(ch => ch == '\n')) + 1;
            }

            Assert.Null(reader.ReadFields());
        }
    }

    /// <summary>
    /// Property: lines up to tens of thousands of characters (longer than the parser's buffer), every line end, handed out
    /// a few characters or thousands at a time as a decompressing stream does: records and line numbers as ReadLine reads them.
    /// </summary>
    [Fact]
    public void ReadFields_LongLinesInUnevenReads_EqualsReadLine()
    {
        var random = new Random(1310);
        string[] ends = ["\n", "\r\n", "\r"];
        for (var trial = 0; trial < 60; trial++)
        {
            var text = new StringBuilder();
            for (var l = random.Next(0, 40); l > 0; l--)
            {
                var length = random.Next(4) switch { 0 => 0, 1 => random.Next(1, 50), 2 => random.Next(65_000, 66_000), _ => random.Next(1, 140_000) };
                for (var k = 0; k < length; k++)
                {
                    text.Append((char)('a' + random.Next(26)));
                }

                text.Append(ends[random.Next(ends.Length)]);
            }

            if (random.Next(2) == 0)
            {
                text.Append("last");
            }

            var expected = new List<(long, string)>();
            using (var plain = new StringReader(text.ToString()))
            {
                var number = 0L;
                while (plain.ReadLine() is { } line)
                {
                    number++;
                    if (line.Length > 0)
                    {
                        expected.Add((number, line));
                    }
                }
            }

            using var reader = new CsvRecordReader(new UnevenReader(text.ToString(), random), "u.csv");
            Assert.Equal(expected, ReadAll(reader).Select(r => (r.Line, Assert.Single(r.Cells))));
        }
    }

    /// <summary>Random text with quotes anywhere: a record or a typed error naming the file and a line, never anything else, never more than the file.</summary>
    [Fact]
    public void ReadFields_RandomText_OnlyRecordsOrTypedErrors()
    {
        var random = new Random(99);
        for (var trial = 0; trial < 2000; trial++)
        {
            var chars = new char[random.Next(0, 200)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = "a, \"\r\n"[random.Next(6)];
            }

            using var reader = new CsvRecordReader(new StringReader(new string(chars)), "x.csv");
            var total = 0;
            var lines = 1 + chars.Count(c => c == '\n' || c == '\r');
            try
            {
                while (reader.ReadFields() is { } cells)
                {
                    total += cells.Sum(c => c.Length);
                    Assert.InRange(reader.Line, 1, lines);
                }
            }
            catch (InvalidDataException e)
            {
                Assert.Matches(@"^x\.csv: line [0-9]+: ", e.Message);
            }

            Assert.True(total <= chars.Length);
        }
    }

    private static List<string> Show(List<(long Line, string[] Cells)> records) =>
        [.. records.Select(r => $"{r.Line}: {System.Text.Json.JsonSerializer.Serialize(r.Cells)}")];

    private static List<(long Line, string[] Cells)> ReadAll(CsvRecordReader reader)
    {
        var records = new List<(long, string[])>();
        while (reader.ReadFields() is { } cells)
        {
            records.Add((reader.Line, cells));
        }

        return records;
    }

    /// <summary>One line that never ends (after some text first), counting the characters it hands out.</summary>
    private sealed class EndlessLineReader(string before) : TextReader
    {
        // Far past what a bounded reader may take, far short of what would exhaust the test's memory.
        private const long GiveUpAt = 64L << 20;

        public long CharsRead { get; private set; }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            if (CharsRead >= GiveUpAt)
            {
                throw new InvalidOperationException($"read {CharsRead} characters of one line: the line is being read whole");
            }

            for (var i = 0; i < buffer.Length; i++)
            {
                var at = CharsRead + i;
                buffer[i] = at < before.Length ? before[(int)at] : (char)('0' + (at % 10));
            }

            CharsRead += buffer.Length;
            return buffer.Length;
        }

        public override int Read()
        {
            Span<char> one = stackalloc char[1];
            Read(one);
            return one[0];
        }

        public override int Peek() => CharsRead < before.Length ? before[(int)CharsRead] : '0';
    }

    /// <summary>Text handed out in reads of random size, 1 character to 20,000.</summary>
    private sealed class UnevenReader(string text, Random random) : TextReader
    {
        private int _at;

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            var n = Math.Min(Math.Min(buffer.Length, text.Length - _at), random.Next(3) == 0 ? random.Next(1, 8) : random.Next(1, 20_000));
            text.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        public override int Read() => _at < text.Length ? text[_at++] : -1;

        public override int Peek() => _at < text.Length ? text[_at] : -1;
    }

    private sealed class CountingReader(string text) : TextReader
    {
        public int CharsRead { get; private set; }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            var n = Math.Min(buffer.Length, text.Length - CharsRead);
            text.AsSpan(CharsRead, n).CopyTo(buffer);
            CharsRead += n;
            return n;
        }

        public override int Read() => CharsRead < text.Length ? text[CharsRead++] : -1;

        public override int Peek() => CharsRead < text.Length ? text[CharsRead] : -1;
    }
}
