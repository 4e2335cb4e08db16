using System.Runtime.InteropServices;
using AlertBroker.Model.Onnx;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Model;

/// <summary>
/// What <see cref="NativeHeap.Trim"/> costs when a session is released (once per model swap, on the registry watcher's
/// thread or the one that ends the last batch using the old model): before each call, <see cref="FreedMegabytes"/> of C
/// heap in 64 KB chunks is allocated, touched and freed below one live chunk, as a released ONNX Runtime arena leaves it.
/// A hot swap left about 3.5 MB (docs/performance.md, "Hot swaps and memory").
/// </summary>
[InvocationCount(1)]
[MemoryDiagnoser]
public class NativeHeapBenchmarks
{
    private const int Chunk = 64 * 1024;
    private nint _pinned;

    [Params(0, 4, 100)]
    public int FreedMegabytes { get; set; }

    [IterationSetup]
    public unsafe void FreeBelowALiveChunk()
    {
        var chunks = new nint[FreedMegabytes * (1024 * 1024 / Chunk)];
        for (var i = 0; i < chunks.Length; i++)
        {
            chunks[i] = (nint)NativeMemory.Alloc(Chunk);
            new Span<byte>((void*)chunks[i], Chunk).Fill(1);
        }

        _pinned = (nint)NativeMemory.Alloc(Chunk);
        foreach (var chunk in chunks)
        {
            NativeMemory.Free((void*)chunk);
        }
    }

    [IterationCleanup]
    public unsafe void FreeTheLiveChunk() => NativeMemory.Free((void*)_pinned);

    [Benchmark]
    public bool Trim() => NativeHeap.Trim();
}
