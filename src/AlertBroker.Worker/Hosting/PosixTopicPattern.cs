namespace AlertBroker.Worker.Hosting;

/// <summary>
/// librdkafka matches a <c>^</c> subscription with the C library's POSIX extended regular expressions (<c>regcomp</c>
/// with <c>REG_EXTENDED</c>; the packaged build imports glibc's), not .NET's. A pattern .NET accepts can mean something
/// else there — <c>\d</c> is a plain <c>d</c>, a backslash inside <c>[ ]</c> is a backslash, <c>(?:…)</c> does not
/// compile — and the worker would then subscribe to nothing, or to other topics, without a word. This finds the
/// constructs whose meaning differs, so that the setting is refused with the POSIX way to write them.
/// </summary>
internal static class PosixTopicPattern
{
    // Escapes that mean the same in both: a quoted metacharacter, glibc's word/space/boundary classes, a backreference.
    private const string PortableEscapes = @".[]{}()\*+?^$|/-_wWsSbB<>123456789";

    /// <summary>Why <paramref name="pattern"/> would not mean in librdkafka what it means in .NET; null when it would.</summary>
    public static string? Problem(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var inBrackets = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (inBrackets)
            {
                if (c == '\\')
                {
                    return "inside [ ] a backslash is an ordinary character in POSIX regular expressions (write [0-9] for digits, [[:alnum:]_] for word characters, or the character itself)";
                }

                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] is ':' or '.' or '=')
                {
                    // [:alpha:] and friends: skip to the closing ":]".
                    var end = pattern.IndexOf(pattern[i + 1] + "]", i + 2, StringComparison.Ordinal);
                    i = end < 0 ? pattern.Length : end + 1;
                    continue;
                }

                if (c == ']')
                {
                    inBrackets = false;
                }

                continue;
            }

            switch (c)
            {
                case '[':
                    inBrackets = true;

                    // A ']' first (after an optional '^') is a member, not the end.
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        i++;
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        i++;
                    }

                    break;
                case '(' when i + 1 < pattern.Length && pattern[i + 1] == '?':
                    return "(?…) groups (non-capturing, look-around, inline options) are not POSIX regular expressions; use plain ( ) and spell case variants out ([Zz][Tt][Ff])";
                case '\\' when i + 1 < pattern.Length:
                    var next = pattern[i + 1];
                    if (!PortableEscapes.Contains(next, StringComparison.Ordinal))
                    {
                        return next is 'd' or 'D'
                            ? $"\\{next} is not in POSIX regular expressions (there it is the letter {next}); write {(next == 'd' ? "[0-9]" : "[^0-9]")}"
                            : $"\\{next} is not an escape POSIX regular expressions know; write the character itself or a [ ] class";
                    }

                    i++;
                    break;
            }
        }

        return null;
    }
}
