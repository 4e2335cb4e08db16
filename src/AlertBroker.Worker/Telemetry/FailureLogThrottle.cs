namespace AlertBroker.Worker.Telemetry;

/// <summary>
/// When a lasting failure is logged: its first occurrence at once, then at most once per interval, each line with how many
/// occurred since the one before; <see cref="Recovered"/> ends the failure, so the next one is logged at once again.
/// Thread-safe (its users report from continuations and event callbacks). Counts every occurrence in <see cref="Failures"/>.
/// </summary>
internal sealed class FailureLogThrottle(TimeSpan interval, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private bool _failing;
    private long _since;
    private long _failures;
    private DateTimeOffset _lastLog;

    /// <summary>Occurrences so far.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>
    /// Records one occurrence; true (with the occurrences since the last logged line, this one included) when it is to be
    /// logged. <paramref name="log"/> runs under the throttle's lock, before the occurrence shows in <see cref="Failures"/>.
    /// </summary>
    public void Failed(Action<long> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        lock (_gate)
        {
            _since++;
            var now = _time.GetUtcNow();
            if (!_failing || now - _lastLog >= interval)
            {
                _failing = true;
                _lastLog = now;
                var since = _since;
                _since = 0;
                log(since);
            }

            Interlocked.Increment(ref _failures);
        }
    }

    /// <summary>Ends a failure: runs <paramref name="log"/> with the occurrences not yet said when one was under way.</summary>
    public void Recovered(Action<long> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        lock (_gate)
        {
            if (!_failing)
            {
                return;
            }

            _failing = false;
            log(_since);
            _since = 0;
        }
    }
}
