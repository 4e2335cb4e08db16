using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AlertBroker.Training.Numerics;

/// <summary>
/// Single-precision matrix product C (+)= A·B for the trainer's three shapes with one register-blocked kernel:
/// A is read through strides (element (i, k) at <c>a[i·aRow + k·aCol]</c>), so A, Aᵀ and row-major views all go
/// through the same code; B is row-major with rows contiguous along the output columns. The kernel keeps a 4 × 16
/// block of C in eight 256-bit registers and walks k in blocks that keep the B panel in L2.
/// </summary>
internal static unsafe class Sgemm
{
    private const int KBlock = 128;

    /// <summary>
    /// C[i, j] = (accumulate ? C[i, j] : 0) + Σ_k A(i, k) · B[k, j] for i &lt; m, j &lt; n, k &lt; k.
    /// </summary>
    public static void Multiply(
        int m,
        int n,
        int k,
        ReadOnlySpan<float> a,
        int aRow,
        int aCol,
        ReadOnlySpan<float> b,
        int ldb,
        Span<float> c,
        int ldc,
        bool accumulate)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        if ((long)(m - 1) * ldc + n > c.Length)
        {
            throw new ArgumentException("C is too small.", nameof(c));
        }

        if (!accumulate)
        {
            for (var i = 0; i < m; i++)
            {
                c.Slice(i * ldc, n).Clear();
            }
        }

        if (k <= 0)
        {
            return;
        }

        if (((long)(m - 1) * aRow) + ((long)(k - 1) * aCol) >= a.Length)
        {
            throw new ArgumentException("A is too small.", nameof(a));
        }

        if ((long)(k - 1) * ldb + n > b.Length)
        {
            throw new ArgumentException("B is too small.", nameof(b));
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            for (var kb = 0; kb < k; kb += KBlock)
            {
                var kc = Math.Min(KBlock, k - kb);
                var ak = pa + ((long)kb * aCol);
                var bk = pb + ((long)kb * ldb);
                var i = 0;
                for (; i + 4 <= m; i += 4)
                {
                    Rows4(ak + ((long)i * aRow), aRow, aCol, bk, ldb, pc + ((long)i * ldc), ldc, n, kc);
                }

                for (; i < m; i++)
                {
                    Row1(ak + ((long)i * aRow), aCol, bk, ldb, pc + ((long)i * ldc), n, kc);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4(float* a, int aRow, int aCol, float* b, int ldb, float* c, int ldc, int n, int kc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + (2 * ldc), c3 = c + (3 * ldc);
        float* a1 = a + aRow, a2 = a + (2 * aRow), a3 = a + (3 * aRow);
        var j = 0;
        for (; j + 16 <= n; j += 16)
        {
            var s00 = Vector256.Load(c0 + j);
            var s01 = Vector256.Load(c0 + j + 8);
            var s10 = Vector256.Load(c1 + j);
            var s11 = Vector256.Load(c1 + j + 8);
            var s20 = Vector256.Load(c2 + j);
            var s21 = Vector256.Load(c2 + j + 8);
            var s30 = Vector256.Load(c3 + j);
            var s31 = Vector256.Load(c3 + j + 8);
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                var b0 = Vector256.Load(bp);
                var b1 = Vector256.Load(bp + 8);
                var x = Vector256.Create(a[ao]);
                s00 = Vector256.FusedMultiplyAdd(x, b0, s00);
                s01 = Vector256.FusedMultiplyAdd(x, b1, s01);
                x = Vector256.Create(a1[ao]);
                s10 = Vector256.FusedMultiplyAdd(x, b0, s10);
                s11 = Vector256.FusedMultiplyAdd(x, b1, s11);
                x = Vector256.Create(a2[ao]);
                s20 = Vector256.FusedMultiplyAdd(x, b0, s20);
                s21 = Vector256.FusedMultiplyAdd(x, b1, s21);
                x = Vector256.Create(a3[ao]);
                s30 = Vector256.FusedMultiplyAdd(x, b0, s30);
                s31 = Vector256.FusedMultiplyAdd(x, b1, s31);
            }

            s00.Store(c0 + j);
            s01.Store(c0 + j + 8);
            s10.Store(c1 + j);
            s11.Store(c1 + j + 8);
            s20.Store(c2 + j);
            s21.Store(c2 + j + 8);
            s30.Store(c3 + j);
            s31.Store(c3 + j + 8);
        }

        for (; j + 8 <= n; j += 8)
        {
            var s0 = Vector256.Load(c0 + j);
            var s1 = Vector256.Load(c1 + j);
            var s2 = Vector256.Load(c2 + j);
            var s3 = Vector256.Load(c3 + j);
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                var b0 = Vector256.Load(bp);
                s0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[ao]), b0, s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Create(a1[ao]), b0, s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Create(a2[ao]), b0, s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Create(a3[ao]), b0, s3);
            }

            s0.Store(c0 + j);
            s1.Store(c1 + j);
            s2.Store(c2 + j);
            s3.Store(c3 + j);
        }

        for (; j + 4 <= n; j += 4)
        {
            var s0 = Vector128.Load(c0 + j);
            var s1 = Vector128.Load(c1 + j);
            var s2 = Vector128.Load(c2 + j);
            var s3 = Vector128.Load(c3 + j);
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                var b0 = Vector128.Load(bp);
                s0 = Vector128.FusedMultiplyAdd(Vector128.Create(a[ao]), b0, s0);
                s1 = Vector128.FusedMultiplyAdd(Vector128.Create(a1[ao]), b0, s1);
                s2 = Vector128.FusedMultiplyAdd(Vector128.Create(a2[ao]), b0, s2);
                s3 = Vector128.FusedMultiplyAdd(Vector128.Create(a3[ao]), b0, s3);
            }

            s0.Store(c0 + j);
            s1.Store(c1 + j);
            s2.Store(c2 + j);
            s3.Store(c3 + j);
        }

        for (; j < n; j++)
        {
            float s0 = c0[j], s1 = c1[j], s2 = c2[j], s3 = c3[j];
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                var bv = *bp;
                s0 = MathF.FusedMultiplyAdd(a[ao], bv, s0);
                s1 = MathF.FusedMultiplyAdd(a1[ao], bv, s1);
                s2 = MathF.FusedMultiplyAdd(a2[ao], bv, s2);
                s3 = MathF.FusedMultiplyAdd(a3[ao], bv, s3);
            }

            c0[j] = s0;
            c1[j] = s1;
            c2[j] = s2;
            c3[j] = s3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1(float* a, int aCol, float* b, int ldb, float* c, int n, int kc)
    {
        var j = 0;
        for (; j + 16 <= n; j += 16)
        {
            var s0 = Vector256.Load(c + j);
            var s1 = Vector256.Load(c + j + 8);
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                var x = Vector256.Create(a[ao]);
                s0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp), s0);
                s1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 8), s1);
            }

            s0.Store(c + j);
            s1.Store(c + j + 8);
        }

        for (; j + 8 <= n; j += 8)
        {
            var s0 = Vector256.Load(c + j);
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[ao]), Vector256.Load(bp), s0);
            }

            s0.Store(c + j);
        }

        for (; j < n; j++)
        {
            var s = c[j];
            var bp = b + j;
            long ao = 0;
            for (var p = 0; p < kc; p++, bp += ldb, ao += aCol)
            {
                s = MathF.FusedMultiplyAdd(a[ao], *bp, s);
            }

            c[j] = s;
        }
    }

    /// <summary>Writes the transpose of row-major <paramref name="source"/> [rows, cols] (row stride <paramref name="ld"/>) into <paramref name="target"/> [cols, rows].</summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int cols, int ld, Span<float> target)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = source.Slice(r * ld, cols);
            for (var c = 0; c < cols; c++)
            {
                target[(c * rows) + r] = row[c];
            }
        }
    }

    /// <summary>Adds the <paramref name="rows"/> rows of <paramref name="source"/> [rows, n] (stride <paramref name="ld"/>) into <paramref name="sum"/> [n].</summary>
    public static void AddRows(ReadOnlySpan<float> source, int rows, int n, int ld, Span<float> sum)
    {
        for (var r = 0; r < rows; r++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(sum[..n], source.Slice(r * ld, n), sum[..n]);
        }
    }
}
