using System.Globalization;

namespace AlertBroker.Alerts.Csv;

/// <summary>
/// One CSV record's cells (a record as <see cref="CsvRecordReader"/> reads it), for every reader of the project's CSV files: the trainer's light curves and metadata
/// (AlertBroker.Training), the simulator's comparison with real light curves (AlertBroker.Simulation) and the worker's
/// metadata sources (AlertBroker.Worker). It lives here because all three reference this assembly.
/// </summary>
public static class CsvLine
{
    /// <summary>
    /// The cells of <paramref name="line"/> (a trailing '\r' dropped). Lines without a quote are split on commas (the
    /// common case, no extra work); a line with quotes is read as RFC 4180 (<c>"a,b"</c> one cell, <c>""</c> a quote), so
    /// files written with every cell quoted (pandas <c>QUOTE_ALL</c>, spreadsheets) read the same as plain ones. A record
    /// whose quoted cell holds a line break spans lines: read records with <see cref="CsvRecordReader"/>, which joins them
    /// (the cell then holds <c>\n</c>).
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

    /// <summary>
    /// True when a flag cell (a light curve's <c>detected</c>) says so: a non-zero number (1, 1.0) or true in any case,
    /// or t (pandas writes True, spreadsheets TRUE, float columns 1.0); anything else is false.
    /// </summary>
    public static bool IsTrue(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var text = cell.AsSpan().Trim();
        return text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("t", StringComparison.OrdinalIgnoreCase)
            || (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v != 0 && !double.IsNaN(v));
    }
}
