using System.Globalization;

namespace AlertBroker.Alerts.Csv;

/// <summary>Cell values as the project's CSV readers (<see cref="CsvRecordReader"/>) interpret them.</summary>
public static class CsvLine
{
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
