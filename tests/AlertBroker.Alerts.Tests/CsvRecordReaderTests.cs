using System.Text;
using AlertBroker.Alerts.Csv;

namespace AlertBroker.Alerts.Tests;

/// <summary>
/// CSV records as RFC 4180 has them: a quoted cell may hold a line break, and the record then spans lines. Records
/// without quotes are the lines themselves; a quote left open is a typed error naming where the record starts.
/// </summary>
public class CsvRecordReaderTests
{
    [Fact]
    public void ReadRecord_QuotedCellHoldingLineBreaks_IsOneRecordStartingAtItsFirstLine()
    {
        var text = "object_id,comment,z\r\nA,\"spiral host,\r\nbright \"\"core\"\"\r\n\",0.1\r\nB,plain,0.2\r\n";
        var reader = new CsvRecordReader(new StringReader(text), "hosts.csv");

        var records = new List<(long Line, string[] Cells)>();
        while (reader.ReadRecord() is { } record)
        {
            records.Add((reader.Line, CsvLine.Split(record)));
        }

        Assert.Equal([1L, 2L, 5L], records.Select(r => r.Line));
        Assert.Equal(["A", "spiral host,\nbright \"core\"\n", "0.1"], records[1].Cells);
        Assert.Equal(["B", "plain", "0.2"], records[2].Cells);
    }

    [Theory]
    [InlineData("object_id,mjd,band,mag,mag_err,mag", "'mag' twice (columns 4 and 6)")]
    [InlineData("object_id, class ,\"class\"", "'class' twice (columns 2 and 3)")]
    public void ReadHeader_ANameTwice_IsAnErrorNamingTheColumns(string header, string message)
    {
        var reader = new CsvRecordReader(new StringReader(header + "\nA,1,g,18,0.1,19\n"), "lc.csv");

        var e = Assert.Throws<InvalidDataException>(reader.ReadHeader);

        Assert.Contains("lc.csv: the header names the column " + message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadHeader_EmptyNamesRepeated_AreNotLookedUpAndPass()
    {
        var reader = new CsvRecordReader(new StringReader(",object_id,class,,\n0,A,SNIa,,\n"), "meta.csv");

        Assert.Equal(["", "object_id", "class", "", ""], reader.ReadHeader());
    }

    [Fact]
    public void ReadRecord_EmptyLinesAndQuotesClosedOnTheirLine_AreLinesAsRead()
    {
        var reader = new CsvRecordReader(new StringReader("a,\"b,c\"\n\n\"\",\"x\"\"y\"\n"), "f.csv");

        Assert.Equal("a,\"b,c\"", reader.ReadRecord());
        Assert.Equal(string.Empty, reader.ReadRecord());
        Assert.Equal(2, reader.Line);
        Assert.Equal("\"\",\"x\"\"y\"", reader.ReadRecord());
        Assert.Equal(3, reader.Line);
        Assert.Null(reader.ReadRecord());
    }

    [Fact]
    public void ReadRecord_QuoteOpenAtTheEndOfTheFile_IsAnErrorNamingTheFileAndTheLineTheRecordStarts()
    {
        var reader = new CsvRecordReader(new StringReader("id,comment\nA,ok\nB,\"never closed\nC,x\nD,y\n"), "hosts.csv");
        Assert.NotNull(reader.ReadRecord());
        Assert.NotNull(reader.ReadRecord());

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadRecord());

        Assert.StartsWith("hosts.csv: line 3: a quoted cell is not closed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRecord_RecordOverTheLineOrCharacterLimit_IsAnErrorNamingWhereItStarts()
    {
        var manyLines = "h\nA,\"" + string.Concat(Enumerable.Repeat("x\n", 20)) + "\"\n";
        var byLines = new CsvRecordReader(new StringReader(manyLines), "f.csv") { MaxRecordLines = 10 };
        byLines.ReadRecord();
        var e = Assert.Throws<InvalidDataException>(() => byLines.ReadRecord());
        Assert.StartsWith("f.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);

        var longCell = "h\nA,\"" + new string('x', 300) + "\ny\"\n";
        var byChars = new CsvRecordReader(new StringReader(longCell), "f.csv") { MaxRecordChars = 100 };
        byChars.ReadRecord();
        Assert.Throws<InvalidDataException>(() => byChars.ReadRecord());

        // A long line without quotes is over the limit too: the limit is on a record, whatever its shape.
        var plain = new CsvRecordReader(new StringReader(new string('x', 101) + "\n"), "f.csv") { MaxRecordChars = 100 };
        Assert.Throws<InvalidDataException>(() => plain.ReadRecord());
    }

    [Fact]
    public void ReadRecord_DefaultLimits_AnUnterminatedQuoteInAHugeFileStopsAtTheLineLimit()
    {
        // 50,000 lines after an open quote: refused after 10,000, not read to the end.
        var text = new StringBuilder("h\n\"open\n");
        for (var i = 0; i < 50_000; i++)
        {
            text.Append("a,b,c\n");
        }

        var counting = new CountingReader(text.ToString());
        var reader = new CsvRecordReader(counting, "big.csv");
        reader.ReadRecord();

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadRecord());
        Assert.Contains("line 2:", e.Message, StringComparison.Ordinal);

        // Read as far as the limit and a buffer ahead (16 Ki characters; 64 Ki allowed), not to the end.
        var upToTheLimit = "h\n\"open\n".Length + ((CsvRecordReader.DefaultMaxRecordLines - 1) * "a,b,c\n".Length);
        Assert.InRange(counting.CharsRead, upToTheLimit, upToTheLimit + (64 * 1024));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("h\r\nA,1\r\n", 3)]
    [InlineData("h\nA,\"two\nlines\"\r", 4)]
    public void ReadRecord_PhysicalLineWithoutEnd_IsRefusedAfterReadingAboutTheLimitNotTheWholeLine(string before, int line)
    {
        // A 2 GB file of one line, a binary file given as CSV: refused once the line passes the limit, never read whole.
        var endless = new EndlessLineReader(before);
        var reader = new CsvRecordReader(endless, "one-line.csv");

        var e = Assert.Throws<InvalidDataException>(() =>
        {
            while (reader.ReadRecord() is not null)
            {
            }
        });

        Assert.Equal($"one-line.csv: line {line}: the record starting there is longer than {CsvRecordReader.DefaultMaxRecordChars} characters or {CsvRecordReader.DefaultMaxRecordLines} lines (a quoted cell not closed?)", e.Message);
        Assert.InRange(endless.CharsRead, CsvRecordReader.DefaultMaxRecordChars, CsvRecordReader.DefaultMaxRecordChars + (64 * 1024));
    }

    [Fact]
    public void ReadRecord_QuotedCellRunningIntoALineWithoutEnd_IsRefusedAtTheRecordsLimitNamingWhereItStarts()
    {
        var endless = new EndlessLineReader("h\nA,\"open\n" + new string('y', 1000) + "\n");
        var reader = new CsvRecordReader(endless, "f.csv");
        reader.ReadRecord();

        var e = Assert.Throws<InvalidDataException>(() => reader.ReadRecord());

        Assert.StartsWith("f.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);
        Assert.InRange(endless.CharsRead, CsvRecordReader.DefaultMaxRecordChars, CsvRecordReader.DefaultMaxRecordChars + (64 * 1024));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("")]
    public void ReadRecord_LineExactlyAtTheLimit_IsAcceptedAndOneMoreIsNot(string end)
    {
        foreach (var limit in new[] { 100, CsvRecordReader.DefaultMaxRecordChars })
        {
            var atLimit = new CsvRecordReader(new StringReader("h\n" + new string('x', limit) + end), "f.csv") { MaxRecordChars = limit };
            Assert.Equal("h", atLimit.ReadRecord());
            Assert.Equal(limit, atLimit.ReadRecord()?.Length);
            Assert.Equal(2, atLimit.Line);
            Assert.Null(atLimit.ReadRecord());

            var over = new CsvRecordReader(new StringReader("h\n" + new string('x', limit + 1) + end), "f.csv") { MaxRecordChars = limit };
            Assert.Equal("h", over.ReadRecord());
            var e = Assert.Throws<InvalidDataException>(() => over.ReadRecord());
            Assert.StartsWith("f.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void ReadRecord_QuotedRecordSpanningLinesExactlyAtTheLimit_IsAcceptedAndOneMoreIsNot(string end)
    {
        // 100 characters as returned: the lines and the LFs that join them, whatever the line ends in the file.
        var atLimit = "\"" + new string('x', 40) + end + new string('y', 40) + end + new string('z', 16) + "\"";
        var reader = new CsvRecordReader(new StringReader(atLimit + end + "next"), "f.csv") { MaxRecordChars = 100 };
        Assert.Equal(100, reader.ReadRecord()?.Length);
        Assert.Equal("next", reader.ReadRecord());
        Assert.Equal(4, reader.Line);

        var over = new CsvRecordReader(new StringReader("h" + end + atLimit.Insert(1, "x") + end), "f.csv") { MaxRecordChars = 100 };
        over.ReadRecord();
        var e = Assert.Throws<InvalidDataException>(() => over.ReadRecord());
        Assert.StartsWith("f.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRecord_CrLfAndCrAndLf_AreLineBreaksAsReadLineHasThem()
    {
        var reader = new CsvRecordReader(new StringReader("a\r\nb\rc\nd\n\re\r\r\nf"), "f.csv");
        var records = new List<(long, string)>();
        while (reader.ReadRecord() is { } record)
        {
            records.Add((reader.Line, record));
        }

        Assert.Equal([(1L, "a"), (2L, "b"), (3L, "c"), (4L, "d"), (5L, string.Empty), (6L, "e"), (7L, string.Empty), (8L, "f")], records);
        Assert.Equal(8, reader.Line); // the last record's, after the end too
        Assert.Null(reader.ReadRecord());
    }

    [Theory]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\r\nb", new[] { "a", "b" })]
    [InlineData("a\r\n\"b\r\nc\"", new[] { "a", "\"b\nc\"" })]
    [InlineData("a\n\"\"", new[] { "a", "\"\"" })]
    [InlineData("\r", new[] { "" })]
    public void ReadRecord_LastLineWithoutALineBreak_IsARecord(string text, string[] expected)
    {
        var reader = new CsvRecordReader(new StringReader(text), "f.csv");
        var records = new List<string>();
        while (reader.ReadRecord() is { } record)
        {
            records.Add(record);
        }

        Assert.Equal(expected, records);
    }

    /// <summary>Property: on text without quotes, records are exactly the lines (and their numbers), whatever the line ends.</summary>
    [Fact]
    public void ReadRecord_RandomTextWithoutQuotes_EqualsLineSplitting()
    {
        var random = new Random(4180);
        string[] ends = ["\n", "\r\n", "\r"];
        const string Alphabet = "ab9 .-\t\uFEFFé";
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

            var expected = new List<string>();
            using (var plain = new StringReader(text.ToString()))
            {
                while (plain.ReadLine() is { } line)
                {
                    expected.Add(line);
                }
            }

            var reader = new CsvRecordReader(new StringReader(text.ToString()), "p.csv");
            var actual = new List<string>();
            while (reader.ReadRecord() is { } record)
            {
                actual.Add(record);
                Assert.Equal(actual.Count, reader.Line);
                Assert.Equal(CsvLine.Split(expected[actual.Count - 1]), CsvLine.Split(record));
            }

            Assert.Equal(expected, actual);
        }
    }

    /// <summary>Property: cells holding commas, quotes and line breaks, written as RFC 4180 has it, read back as written.</summary>
    [Fact]
    public void ReadRecord_RandomCellsWrittenAsRfc4180_RoundTrip()
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
                text.AppendJoin(',', cells.Select(c => c.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + c.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : c))
                    .Append(random.Next(2) == 0 ? "\n" : "\r\n");
            }

            var reader = new CsvRecordReader(new StringReader(text.ToString()), "r.csv");
            var expectedLine = 1L;
            foreach (var row in rows)
            {
                var record = reader.ReadRecord();
                Assert.NotNull(record);
                Assert.Equal(expectedLine, reader.Line);
                Assert.Equal(row.Length == 1 && row[0].Length == 0 ? [string.Empty] : row, CsvLine.Split(record));
                expectedLine += record.Count(ch => ch == '\n') + 1;
            }

            Assert.Null(reader.ReadRecord());
        }
    }

    /// <summary>
    /// Property: lines up to tens of thousands of characters (longer than the reader's buffer), every line end, handed out
    /// a few characters or thousands at a time as a decompressing stream does: records and line numbers as ReadLine reads them.
    /// </summary>
    [Fact]
    public void ReadRecord_LongLinesInUnevenReads_EqualsReadLine()
    {
        var random = new Random(1310);
        string[] ends = ["\n", "\r\n", "\r"];
        for (var trial = 0; trial < 60; trial++)
        {
            var text = new StringBuilder();
            for (var l = random.Next(0, 40); l > 0; l--)
            {
                var length = random.Next(4) switch { 0 => 0, 1 => random.Next(1, 50), 2 => random.Next(16_000, 16_800), _ => random.Next(1, 70_000) };
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

            var expected = new List<string>();
            using (var plain = new StringReader(text.ToString()))
            {
                while (plain.ReadLine() is { } line)
                {
                    expected.Add(line);
                }
            }

            var reader = new CsvRecordReader(new UnevenReader(text.ToString(), random), "u.csv");
            var actual = new List<string>();
            while (reader.ReadRecord() is { } record)
            {
                actual.Add(record);
                Assert.Equal(actual.Count, reader.Line);
            }

            Assert.Equal(expected, actual);
        }
    }

    /// <summary>Random text with quotes anywhere: a record or a typed error, never anything else, and never more than the file.</summary>
    [Fact]
    public void ReadRecord_RandomText_OnlyRecordsOrTypedErrors()
    {
        var random = new Random(99);
        for (var trial = 0; trial < 2000; trial++)
        {
            var chars = new char[random.Next(0, 200)];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = "a,\"\r\n"[random.Next(5)];
            }

            var reader = new CsvRecordReader(new StringReader(new string(chars)), "x.csv") { MaxRecordLines = 20 };
            var total = 0;
            try
            {
                while (reader.ReadRecord() is { } record)
                {
                    total += record.Length;
                    _ = CsvLine.Split(record);
                }
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("x.csv: line ", e.Message, StringComparison.Ordinal);
            }

            Assert.True(total <= chars.Length);
        }
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
