namespace AlertBroker.Alerts;

/// <summary>
/// A survey-qualified filter. ZTF's g and Rubin's g are different filters with different central
/// wavelengths, so the band is always qualified by the survey that defined it.
/// </summary>
public enum Passband : byte
{
    Unknown = 0,
    ZtfG = 1,
    ZtfR = 2,
    ZtfI = 3,
    LsstU = 10,
    LsstG = 11,
    LsstR = 12,
    LsstI = 13,
    LsstZ = 14,
    LsstY = 15,
    DesG = 21,
    DesR = 22,
    DesI = 23,
    DesZ = 24,
}

/// <summary>Passband look-ups: names, survey filter ids and central (effective) wavelengths.</summary>
public static class Passbands
{
    /// <summary>Central wavelength in micrometres; NaN for <see cref="Passband.Unknown"/>.</summary>
    public static double CentralWavelengthMicron(Passband band) => band switch
    {
        // ZTF: effective wavelengths of the ZTF g, r, i filters (SVO filter service).
        Passband.ZtfG => 0.4746,
        Passband.ZtfR => 0.6366,
        Passband.ZtfI => 0.7867,
        // Rubin/LSST: effective wavelengths of the LSST baseline filters.
        Passband.LsstU => 0.3671,
        Passband.LsstG => 0.4827,
        Passband.LsstR => 0.6223,
        Passband.LsstI => 0.7546,
        Passband.LsstZ => 0.8691,
        Passband.LsstY => 0.9712,
        // DECam (DES) g, r, i, z.
        Passband.DesG => 0.4820,
        Passband.DesR => 0.6423,
        Passband.DesI => 0.7806,
        Passband.DesZ => 0.9158,
        _ => double.NaN,
    };

    /// <summary>The survey that defines the band.</summary>
    public static Survey SurveyOf(Passband band) => band switch
    {
        Passband.ZtfG or Passband.ZtfR or Passband.ZtfI => Survey.Ztf,
        >= Passband.LsstU and <= Passband.LsstY => Survey.Lsst,
        _ => Survey.Unknown,
    };

    /// <summary>The one-letter filter name (g, r, …).</summary>
    public static string Letter(Passband band) => band switch
    {
        Passband.ZtfG or Passband.LsstG or Passband.DesG => "g",
        Passband.ZtfR or Passband.LsstR or Passband.DesR => "r",
        Passband.ZtfI or Passband.LsstI or Passband.DesI => "i",
        Passband.LsstU => "u",
        Passband.LsstZ or Passband.DesZ => "z",
        Passband.LsstY => "y",
        _ => "?",
    };

    /// <summary>ZTF filter id (1 = g, 2 = r, 3 = i).</summary>
    public static Passband FromZtfFilterId(long fid) => fid switch
    {
        1 => Passband.ZtfG,
        2 => Passband.ZtfR,
        3 => Passband.ZtfI,
        _ => Passband.Unknown,
    };

    /// <summary>Rubin band name as UTF-8 ("u" … "y"), without allocating.</summary>
    public static Passband FromLsstBand(ReadOnlySpan<byte> utf8) =>
        utf8.Length == 1 ? FromLetter(Survey.Lsst, (char)utf8[0]) : Passband.Unknown;

    /// <summary>A band letter in a named survey ("ztf", "lsst", "des"), in either case.</summary>
    public static Passband Parse(string survey, string letter)
    {
        ArgumentNullException.ThrowIfNull(survey);
        ArgumentNullException.ThrowIfNull(letter);
        if (letter.Length != 1)
        {
            return Passband.Unknown;
        }

        // Files name bands either way (G/g, R/r); the letter is the band whatever its case.
        var c = char.ToLowerInvariant(letter[0]);
        return survey.ToUpperInvariant() switch
        {
            "ZTF" => FromLetter(Survey.Ztf, c),
            "LSST" or "RUBIN" => FromLetter(Survey.Lsst, c),
            "DES" => c switch
            {
                'g' => Passband.DesG,
                'r' => Passband.DesR,
                'i' => Passband.DesI,
                'z' => Passband.DesZ,
                _ => Passband.Unknown,
            },
            _ => Passband.Unknown,
        };
    }

    private static Passband FromLetter(Survey survey, char c) => survey switch
    {
        Survey.Ztf => c switch
        {
            'g' => Passband.ZtfG,
            'r' => Passband.ZtfR,
            'i' => Passband.ZtfI,
            _ => Passband.Unknown,
        },
        Survey.Lsst => c switch
        {
            'u' => Passband.LsstU,
            'g' => Passband.LsstG,
            'r' => Passband.LsstR,
            'i' => Passband.LsstI,
            'z' => Passband.LsstZ,
            'y' => Passband.LsstY,
            _ => Passband.Unknown,
        },
        _ => Passband.Unknown,
    };
}
