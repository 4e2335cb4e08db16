namespace AlertBroker.Worker.Kafka;

/// <summary>
/// Bounds the worker's one-line-per-dead-letter warnings: in each window (10 s by default) the first few dead letters of
/// each kind are logged one by one, the rest only counted, and the counts are said once the window has passed. A producer
/// that sends nothing but poison (a wrong schema for an hour) then costs a few lines a window, not one per message, while
/// the metric <c>alertbroker_dead_letters_total</c> and the dead-letter topic still have every one. Not thread-safe: the
/// consume loop is its only user.
/// </summary>
internal sealed class DeadLetterLogLimiter
{
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (int Logged, long Suppressed)> _kinds = new(StringComparer.Ordinal);
    private long _windowStart;

    public DeadLetterLogLimiter(TimeProvider? time = null, int perKindPerWindow = DefaultPerKindPerWindow, TimeSpan? window = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perKindPerWindow);
        _time = time ?? TimeProvider.System;
        PerKindPerWindow = perKindPerWindow;
        Window = window ?? DefaultWindow;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Window, TimeSpan.Zero);
        _windowStart = _time.GetTimestamp();
    }

    public const int DefaultPerKindPerWindow = 10;

    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(10);

    /// <summary>Dead letters of one kind logged one by one per window.</summary>
    public int PerKindPerWindow { get; }

    public TimeSpan Window { get; }

    /// <summary>True when this dead letter of <paramref name="kind"/> is to be logged; false when it is only counted.</summary>
    public bool ShouldLog(string kind)
    {
        var (logged, suppressed) = _kinds.GetValueOrDefault(kind);
        if (logged < PerKindPerWindow)
        {
            _kinds[kind] = (logged + 1, suppressed);
            return true;
        }

        _kinds[kind] = (logged, suppressed + 1);
        return false;
    }

    /// <summary>
    /// When the window has passed (or <paramref name="force"/>, at a stop): the dead letters not logged in it, by kind, and
    /// the window's length; a new window starts. Otherwise nothing.
    /// </summary>
    public IReadOnlyList<(string Kind, long Count, TimeSpan Over)> TakeSuppressed(bool force = false)
    {
        var now = _time.GetTimestamp();
        var over = _time.GetElapsedTime(_windowStart, now);
        if (!force && over < Window)
        {
            return [];
        }

        var result = _kinds.Where(k => k.Value.Suppressed > 0).OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => (k.Key, k.Value.Suppressed, over)).ToList();
        _kinds.Clear();
        _windowStart = now;
        return result;
    }
}
