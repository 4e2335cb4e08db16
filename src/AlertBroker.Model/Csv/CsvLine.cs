namespace AlertBroker.Model.Csv;

/// <summary>
/// One CSV record's cells, for every reader of the project's CSV files: the trainer's light curves and metadata
/// (AlertBroker.Training) and the worker's metadata sources (AlertBroker.Worker). It lives here because both reference
/// this assembly and neither references the other.
/// </summary>
public static class CsvLine
{
    /// <summary>
    /// The cells of <paramref name="line"/> (a trailing '\r' dropped). Lines without a quote are split on commas (the
    /// common case, no extra work); a line with quotes is read as RFC 4180 (<c>"a,b"</c> one cell, <c>""</c> a quote), so
    /// files written with every cell quoted (pandas <c>QUOTE_ALL</c>, spreadsheets) read the same as plain ones. A
    /// record is one line: a quoted cell holding a line break is not supported.
    /// </summary>
    public static string[] Split(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        line = line.TrimEnd('\r');
        if (!line.Contains('"', StringComparison.Ordinal))
        {
            return line.Split(',');
        }

        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c != '"')
                {
                    cell.Append(c);
                }
                else if (i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else
                {
                    quoted = false;
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }

    /// <summary>
    /// <see cref="Split"/> with every cell trimmed of white space, and a UTF-8 byte order mark at the start dropped
    /// (a header line read without BOM detection): <c>"object_id", mjd</c> names <c>object_id</c> and <c>mjd</c>.
    /// </summary>
    public static string[] SplitTrimmed(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var cells = Split(line.TrimStart('\uFEFF'));
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = cells[i].Trim();
        }

        return cells;
    }
}
