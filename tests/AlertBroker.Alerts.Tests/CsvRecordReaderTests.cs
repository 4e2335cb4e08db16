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
        Assert.Equal(CsvRecordReader.DefaultMaxRecordLines + 1, counting.Lines);
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

    private sealed class CountingReader(string text) : TextReader
    {
        private readonly StringReader _inner = new(text);

        public int Lines { get; private set; }

        public override string? ReadLine()
        {
            var line = _inner.ReadLine();
            if (line is not null)
            {
                Lines++;
            }

            return line;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
