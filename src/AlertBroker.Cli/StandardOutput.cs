using System.Text;

namespace AlertBroker.Cli;

/// <summary>
/// Standard output that says it is standard output when it cannot be written: a full disk behind <c>&gt; file</c>, or
/// <c>/dev/full</c>. A write that fails throws <see cref="StandardOutputException"/> (not an <see cref="IOException"/>, so
/// that no command's "cannot read or write this file" handling takes it for one of its files); the program reports it on
/// one line and exits 1. (Before, such a failure ended as "unexpected error (IOException): No space left on device", exit
/// 70.) A closed pipe (<c>| head</c>) is not a failure: .NET's console stream ignores EPIPE, as before.
/// </summary>
internal sealed class StandardOutput(TextWriter inner) : TextWriter
{
    /// <summary>Puts the guard in front of <see cref="Console.Out"/>; call before anything writes or caches it.</summary>
    public static void Install() => Console.SetOut(new StandardOutput(Console.Out));

    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    public override void Write(char value) => Guard(value, static (w, v) => w.Write(v));

    public override void Write(string? value) => Guard(value, static (w, v) => w.Write(v));

    public override void Write(char[] buffer, int index, int count) =>
        Guard((buffer, index, count), static (w, v) => w.Write(v.buffer, v.index, v.count));

    public override void Write(ReadOnlySpan<char> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (IOException e)
        {
            throw new StandardOutputException(e);
        }
    }

    public override void WriteLine() => Guard(0, static (w, _) => w.WriteLine());

    public override void WriteLine(string? value) => Guard(value, static (w, v) => w.WriteLine(v));

    public override void WriteLine(ReadOnlySpan<char> buffer)
    {
        try
        {
            inner.WriteLine(buffer);
        }
        catch (IOException e)
        {
            throw new StandardOutputException(e);
        }
    }

    public override void Flush() => Guard(0, static (w, _) => w.Flush());

    public override Task WriteAsync(char value) => GuardAsync(() => inner.WriteAsync(value));

    public override Task WriteAsync(string? value) => GuardAsync(() => inner.WriteAsync(value));

    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.WriteAsync(buffer, cancellationToken));

    public override Task WriteLineAsync(string? value) => GuardAsync(() => inner.WriteLineAsync(value));

    public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) =>
        GuardAsync(() => inner.WriteLineAsync(buffer, cancellationToken));

    public override Task FlushAsync() => GuardAsync(inner.FlushAsync);

    // One write through to the console, an IOException said to be standard output's (static lambdas: no closure a call).
    private void Guard<T>(T value, Action<TextWriter, T> write)
    {
        try
        {
            write(inner, value);
        }
        catch (IOException e)
        {
            throw new StandardOutputException(e);
        }
    }

    private static async Task GuardAsync(Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new StandardOutputException(e);
        }
    }
}

/// <summary>Standard output could not be written (<see cref="StandardOutput"/>); the program exits 1.</summary>
internal sealed class StandardOutputException(IOException inner)
    : Exception($"cannot write standard output: {inner.Message}", inner);
