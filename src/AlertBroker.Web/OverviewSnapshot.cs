using System.Text.Json;

namespace AlertBroker.Web;

/// <summary>The overview and its JSON, as every client is sent it.</summary>
internal sealed record OverviewResult(OverviewDto Overview, string Json);

/// <summary>
/// The overview shared by every client (each event stream and <c>/api/overview</c>): at most one computation runs at a
/// time, and a result (or failure) younger than the refresh period is reused, so the sources (for <c>serve</c>, Redis round
/// trips) are read about once per period however many pages are open, not once per page.
/// </summary>
/// <remarks>
/// The computation runs under the application's stopping token, never a client's: a client that goes stops waiting for
/// it, the others still get it.
/// </remarks>
internal sealed class OverviewSnapshot(Func<CancellationToken, Task<OverviewDto>> compute, TimeSpan maxAge, TimeProvider time)
{
    private readonly Lock _gate = new();
    private Task<OverviewResult>? _current;
    private long _startedAt;

    /// <summary>The latest overview, computed now if the last one is older than the period (and none is running).</summary>
    /// <param name="stopping">Cancels the computation itself (the application is stopping).</param>
    /// <param name="cancellationToken">Stops this caller's wait only.</param>
    public Task<OverviewResult> GetAsync(CancellationToken stopping, CancellationToken cancellationToken)
    {
        Task<OverviewResult> current;
        lock (_gate)
        {
            if (_current is null || (_current.IsCompleted && time.GetElapsedTime(_startedAt) >= maxAge))
            {
                _startedAt = time.GetTimestamp();

                // On the thread pool: a source that answers synchronously (the worker's own statistics) must not run under the lock.
                _current = Task.Run(() => ComputeAsync(stopping), CancellationToken.None);
            }

            current = _current;
        }

        return current.WaitAsync(cancellationToken);
    }

    private async Task<OverviewResult> ComputeAsync(CancellationToken stopping)
    {
        var overview = await compute(stopping).ConfigureAwait(false);
        return new OverviewResult(overview, JsonSerializer.Serialize(overview, WebApi.Json));
    }
}
