using System.Runtime.InteropServices;
using AlertBroker.Model.Onnx;

namespace AlertBroker.Model.Tests;

/// <summary>Alone: the trim test reads the process's resident memory, which other tests' allocations would move.</summary>
[CollectionDefinition(nameof(NativeHeapTests), DisableParallelization = true)]
public sealed class NativeHeapCollection;

[Collection(nameof(NativeHeapTests))]
public class NativeHeapTests
{
    [Fact]
    public unsafe void Trim_FreedChunksBelowAPinnedTop_ComeBackToTheSystem()
    {
        // The worker's target is linux-x64 with glibc (the project's RuntimeIdentifier); so is every test machine.
        // 48 MB in 64 KB chunks (below glibc's mmap threshold, so from the heap), each page touched; the last chunk stays
        // allocated so that free() cannot shrink the heap from its top: the rest stays resident until a trim.
        const int chunk = 64 * 1024, count = 768;
        var chunks = new nint[count];
        for (var i = 0; i < count; i++)
        {
            chunks[i] = (nint)NativeMemory.Alloc(chunk);
            new Span<byte>((void*)chunks[i], chunk).Fill(1);
        }

        for (var i = 0; i < count - 1; i++)
        {
            NativeMemory.Free((void*)chunks[i]);
        }

        var before = Environment.WorkingSet;
        var trimmed = NativeHeap.Trim();
        var after = Environment.WorkingSet;
        NativeMemory.Free((void*)chunks[count - 1]);

        Assert.True(trimmed);
        // Half of what was freed is the bar: the runtime's own threads allocate beside this one.
        Assert.True(before - after >= count * (long)chunk / 2, $"resident {before >> 20} MB before the trim, {after >> 20} MB after");
    }

    [Fact]
    public void Trim_CalledAgain_IsHarmless()
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.Trim());
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.Trim());
    }
}
