using System.Security.Cryptography;
using AlertBroker.Cli.Native;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Packaging;
using AlertBroker.Worker.Scoring;

namespace AlertBroker.Cli.Tests;

/// <summary>train, finetune and models average|ensemble|priors write their package through <see cref="StagedPackage"/>: whole or not at all.</summary>
public sealed class StagedPackageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-staged-").FullName;
    private int _swaps;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Target => Path.Combine(_root, "models", "m", "1.0.0");

    [Fact]
    public void Write_Succeeds_TargetHoldsEveryFileAndNoStagingIsLeft()
    {
        var result = StagedPackage.Write(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.onnx"), "onnx");
            File.WriteAllText(Path.Combine(dir, "model.json"), "{}");
            return 7;
        });

        Assert.Equal(7, result);
        Assert.Equal(["model.json", "model.onnx"], Directory.GetFiles(Target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // "--out /proc/x" said "Could not find file '/proc/.x.staging-50bb…'": a hidden path the user never gave.
    [Fact]
    public void Write_InADirectoryThatTakesNoNewDirectory_NamesItAndTheTargetNotTheStagingDirectory()
    {
        var target = Path.Combine("/proc", "ab-staged-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<IOException>(() => StagedPackage.Write(target, _ => 0));

        Assert.StartsWith($"cannot write {target}: cannot create a directory in /proc (", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".staging-", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("//")]
    [InlineData("/tmp/..")]
    public void Write_TheFileSystemRoot_IsRefusedBeforeAnythingIsWritten(string target)
    {
        var wrote = false;

        var e = Assert.Throws<ArgumentException>(() => StagedPackage.Write(target, _ => wrote = true));

        Assert.Contains("is the file system's root", e.Message, StringComparison.Ordinal);
        Assert.False(wrote);
    }

    [Fact]
    public void Write_FailsOrIsStoppedAfterTheOnnxFile_NoTargetAndNoStagingIsLeft()
    {
        foreach (var failure in new Exception[] { new IOException("disk full"), new OperationCanceledException() })
        {
            var thrown = Assert.Throws(failure.GetType(), () => StagedPackage.Write<int>(Target, dir =>
            {
                File.WriteAllText(Path.Combine(dir, "model.onnx"), "onnx");
                throw failure;
            }));

            Assert.Same(failure, thrown);
            Assert.False(Directory.Exists(Target));
            Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
        }
    }

    [Fact]
    public void Write_FailsOverAnExistingPackage_TheOldPackageIsUntouched()
    {
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "model.onnx"), "old onnx");
        File.WriteAllText(Path.Combine(Target, "model.json"), "old json");

        Assert.Throws<IOException>(() => StagedPackage.Write<int>(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.onnx"), "new onnx");
            throw new IOException("disk full");
        }));

        Assert.Equal("old onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("old json", File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    [Fact]
    public void Write_OverAnExistingDirectory_ReplacesThePackageFilesAndKeepsOthers()
    {
        Directory.CreateDirectory(Path.Combine(Target, "checkpoints"));
        File.WriteAllText(Path.Combine(Target, "checkpoints", "best.weights"), "w");
        File.WriteAllText(Path.Combine(Target, "model.json"), "old json");

        StagedPackage.Write(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.onnx"), "new onnx");
            File.WriteAllText(Path.Combine(dir, "model.json"), "new json");
            return 0;
        }, Exchange);

        Assert.Equal("new json", File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("w", File.ReadAllText(Path.Combine(Target, "checkpoints", "best.weights")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, _swaps);
    }

    [Fact]
    public void Write_OverAnExistingPackage_EveryFileIsReplacedInOneSwapAndTheOldTreeIsRemoved()
    {
        WritePackage(Target, "old", "notes");
        var notes = Path.Combine(Target, "notes");

        StagedPackage.Write(Target, dir => WritePackage(dir, "new", "notes"), Exchange);

        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, _swaps);
        Assert.Equal(["MODEL_CARD.md", "model.json", "model.onnx", "notes"], Directory.GetFiles(Target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Sha("new onnx"), File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("new card", File.ReadAllText(Path.Combine(Target, "MODEL_CARD.md")));
        Assert.Equal("new notes", File.ReadAllText(notes));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // Checkpoints and anything else the run does not write survive the swap, subdirectories, their permissions and links
    // inside included; the old tree (at the hidden staging path after the swap) is gone.
    [Fact]
    public void Write_OverADirectoryWithOtherFiles_KeepsThemThroughTheSwap()
    {
        WritePackage(Target, "old");
        var checkpoints = Directory.CreateDirectory(Path.Combine(Target, "checkpoints", "epoch-3")).FullName;
        File.WriteAllBytes(Path.Combine(checkpoints, "weights.bin"), [1, 2, 3]);
        File.WriteAllText(Path.Combine(Target, "checkpoints", "best.txt"), "epoch-3");
        File.WriteAllText(Path.Combine(Target, "README"), "kept");
        File.WriteAllText(Path.Combine(Target, ".hidden"), "kept too");
        File.CreateSymbolicLink(Path.Combine(Target, "latest"), "checkpoints/epoch-3");
        Directory.CreateDirectory(Path.Combine(Target, "empty"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(checkpoints, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        StagedPackage.Write(Target, dir => WritePackage(dir, "new"), Exchange);

        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, _swaps);
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal(Sha("new onnx"), File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(Target, "checkpoints", "epoch-3", "weights.bin")));
        Assert.Equal("epoch-3", File.ReadAllText(Path.Combine(Target, "checkpoints", "best.txt")));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(Target, "README")));
        Assert.Equal("kept too", File.ReadAllText(Path.Combine(Target, ".hidden")));
        Assert.Equal("checkpoints/epoch-3", new FileInfo(Path.Combine(Target, "latest")).LinkTarget);
        Assert.True(Directory.Exists(Path.Combine(Target, "empty")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(Target, "checkpoints", "epoch-3")));
        }

        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // Another process writes into the target after its files were linked and before the swap: what it wrote is in the old
    // tree, and is moved across before that tree is removed.
    [Fact]
    public void Write_AFileAppearsInTheTargetJustBeforeTheSwap_IsMovedAcross()
    {
        WritePackage(Target, "old");
        Directory.CreateDirectory(Path.Combine(Target, "checkpoints"));

        StagedPackage.Write(Target, dir => WritePackage(dir, "new"), (staging, target) =>
        {
            File.WriteAllText(Path.Combine(target, "checkpoints", "late.weights"), "late");
            Directory.CreateDirectory(Path.Combine(target, "late"));
            File.WriteAllText(Path.Combine(target, "late", "a"), "a");
            return Exchange(staging, target);
        });

        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, _swaps);
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("late", File.ReadAllText(Path.Combine(Target, "checkpoints", "late.weights")));
        Assert.Equal("a", File.ReadAllText(Path.Combine(Target, "late", "a")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // The swap itself fails (after the links were made): the target is as it was, and removing the staging directory
    // (whose names are links to the target's files) took nothing from it.
    [Fact]
    public void Write_SwapFails_TheTargetIsAsItWas()
    {
        WritePackage(Target, "old");
        Directory.CreateDirectory(Path.Combine(Target, "checkpoints"));
        File.WriteAllText(Path.Combine(Target, "checkpoints", "best.weights"), "w");
        string[]? staged = null;

        var thrown = Assert.Throws<IOException>(() => StagedPackage.Write(Target, dir => WritePackage(dir, "new"), (staging, _) =>
        {
            staged = Directory.GetFiles(staging, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(staging, f)).Order(StringComparer.Ordinal).ToArray();
            throw new IOException("cannot swap");
        }));

        Assert.Equal("cannot swap", thrown.Message);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(["MODEL_CARD.md", Path.Combine("checkpoints", "best.weights"), "model.json", "model.onnx"], staged!);
        }

        Assert.Equal("old onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal(Sha("old onnx"), File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal("old card", File.ReadAllText(Path.Combine(Target, "MODEL_CARD.md")));
        Assert.Equal("w", File.ReadAllText(Path.Combine(Target, "checkpoints", "best.weights")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // No swap to be had (a file system without RENAME_EXCHANGE): file by file, as before, the links made for the swap
    // left behind with the staging directory.
    [Fact]
    public void Write_SwapUnavailable_MovesFileByFileAndKeepsOthers()
    {
        WritePackage(Target, "old");
        Directory.CreateDirectory(Path.Combine(Target, "checkpoints"));
        File.WriteAllText(Path.Combine(Target, "checkpoints", "best.weights"), "w");
        var asked = 0;

        StagedPackage.Write(Target, dir => WritePackage(dir, "new"), (_, _) =>
        {
            asked++;
            return false;
        });

        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, asked);
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal(Sha("new onnx"), File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal("new card", File.ReadAllText(Path.Combine(Target, "MODEL_CARD.md")));
        Assert.Equal("w", File.ReadAllText(Path.Combine(Target, "checkpoints", "best.weights")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // A run writing a file where the target has a directory (or the reverse) would lose it either way: refused first.
    [Fact]
    public void Write_AFileWhereTheTargetHasADirectory_IsRefusedAndTheTargetIsAsItWas()
    {
        WritePackage(Target, "old");
        Directory.CreateDirectory(Path.Combine(Target, "notes"));
        File.WriteAllText(Path.Combine(Target, "notes", "a.txt"), "a");

        var thrown = Assert.Throws<IOException>(() => StagedPackage.Write(Target, dir => WritePackage(dir, "new", "notes"), Exchange));

        Assert.Contains("is a directory", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0, _swaps);
        Assert.Equal("old onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("a", File.ReadAllText(Path.Combine(Target, "notes", "a.txt")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // models/m/current -> 1.0.0: the swap of the link's own name would put a directory where the link was; the directory it
    // names is written instead, and the link stays.
    [Fact]
    public void Write_TargetIsALinkToADirectory_WritesThatDirectoryAndKeepsTheLink()
    {
        WritePackage(Target, "old");
        File.WriteAllText(Path.Combine(Target, "notes"), "kept");
        var link = Path.Combine(Path.GetDirectoryName(Target)!, "current");
        Directory.CreateSymbolicLink(link, Path.GetFileName(Target));

        StagedPackage.Write(link, dir => WritePackage(dir, "new"), Exchange);

        Assert.Equal(OperatingSystem.IsLinux() ? 1 : 0, _swaps);
        Assert.Equal(Path.GetFileName(Target), new DirectoryInfo(link).LinkTarget);
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(Target, "notes")));
        Assert.Equal([Target, link], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!).Order(StringComparer.Ordinal));
    }

    // A reader (a worker loading the package, models list, score) reads model.json, model.onnx, and model.json again while
    // the package is rewritten over and over. Where both reads of model.json agree, model.onnx was read while that version
    // was at the target, and must be the one it names. The file-by-file way fails this (a new model.onnx beside the old
    // model.json); the swap must not.
    [Fact]
    public void Write_RewrittenWhileAReaderReads_TheReaderNeverSeesAMixture()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var reads = ReadWhileRewriting(Exchange);

        Assert.Equal(0, reads.Errors);
        Assert.Equal(0, reads.Mixtures);
        Assert.True(reads.Checked > 0, "the reader checked nothing");
        Assert.True(reads.Versions > 1, "the reader saw one version only");
        Assert.Equal(reads.Writes, _swaps);
    }

    // A real package loaded (ModelPackage.Load: what run --model, score and models list do) while it is rewritten in
    // place, alternately with two versions: a load whose model.json is the old version's and whose model.onnx is the new
    // one's (or, with two rewrites during the read, model.json the same before and after) would be refused as
    // "HashMismatch" although the package is whole on disk at every moment. Load reads both again while they disagree.
    // The same for what evaluate, models push, finetune --from and the derived-package commands read (the files as bytes,
    // checked without ONNX Runtime; the trainer's network from them): each read a package once and refused it mid-swap.
    [Theory]
    [InlineData("load")]
    [InlineData("files")]
    [InlineData("trainer")]
    public void Load_WhileThePackageIsRewritten_NeverRefusesAWholePackage(string how)
    {
        var root = SharedData.RepositoryRoot();
        if (root is null || !OperatingSystem.IsLinux())
        {
            return;
        }

        string[] versions = [Path.Combine(root, "models", "ztf-bts", "2.6.0"), Path.Combine(root, "models", "ztf-bts", "2.7.0")];
        int Copy(string staging, string from)
        {
            foreach (var name in new[] { "model.onnx", "model.json" })
            {
                File.Copy(Path.Combine(from, name), Path.Combine(staging, name));
            }

            return 0;
        }

        StagedPackage.Write(Target, dir => Copy(dir, versions[0]));
        var done = 0;
        var (loads, refused) = (0, new List<string>());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Thread(() =>
        {
            while (Volatile.Read(ref done) == 0 || loads < 20)
            {
                try
                {
                    seen.Add(ReadVersion(how));
                }
                catch (Exception e) when (e is ModelPackageException or InvalidDataException)
                {
                    refused.Add(e.Message);
                }

                Volatile.Write(ref loads, loads + 1);
            }
        });
        reader.Start();
        var writes = 0;
        try
        {
            // Rewrites go on until the reader has loaded 20 times and the package has changed at least 40 times (a loaded
            // CI machine may run either side slower; neither count may decide alone when the other has done enough).
            while ((Volatile.Read(ref loads) < 20 || writes < 40) && writes < 20_000)
            {
                StagedPackage.Write(Target, dir => Copy(dir, versions[++writes % 2]));
            }
        }
        finally
        {
            Volatile.Write(ref done, 1);
            reader.Join();
        }

        Assert.True(refused.Count == 0, $"{refused.Count} of {loads} loads refused during {writes} rewrites: {string.Join(" | ", refused.Take(3))}");
        Assert.True(writes >= 40, $"{writes} rewrites for {loads} loads: the package hardly changed under the reader");
        Assert.True(seen.Count == 2, $"the reader saw {string.Join(", ", seen)} only in {loads} loads during {writes} rewrites");
    }

    private string ReadVersion(string how)
    {
        switch (how)
        {
            case "load":
                using (var package = ModelPackage.Load(Target, AlertBroker.Model.Features.StepEncodings.Ids))
                {
                    return package.Manifest.Version;
                }

            case "files":
                var (manifest, onnx) = ModelPackage.ReadFiles(Target);
                var problems = ModelPackage.Check(manifest, onnx, AlertBroker.Model.Features.StepEncodings.Ids);
                return problems.Count > 0 ? throw new InvalidDataException(problems[0].Message) : ModelPackage.ParseManifest(manifest).Version;
            default:
                return AlertBroker.Training.Training.ModelIo.LoadPackage(Target).Manifest!.Version;
        }
    }

    // Nothing watches package directories: the worker's search directory, models list and score find packages by scanning
    // for model.json, the registry watcher reads a package's files by path. Right after the swap, with the old tree still
    // at the hidden staging path, a scan finds the new package once, where the old one was, and never the old tree.
    [Fact]
    public void Write_OverAPackageInTheSearchDirectory_AScanRightAfterTheSwapFindsTheNewPackageOnly()
    {
        var models = Path.Combine(_root, "models");
        StagedPackage.Write(Target, dir => TestModelPackages.Export(dir, "m", "1.0.0", seed: 1));
        var oldSha = Assert.Single(ModelCatalog.Scan(models)).Manifest.Onnx.Sha256;
        IReadOnlyList<CatalogPackage>? atTheSwap = null;

        StagedPackage.Write(Target, dir => TestModelPackages.Export(dir, "m", "1.0.0", seed: 2), (staging, target) =>
        {
            var swapped = Exchange(staging, target);
            Assert.True(File.Exists(Path.Combine(staging, ModelPackage.ManifestFileName)));
            atTheSwap = ModelCatalog.Scan(models);
            return swapped;
        });

        var newSha = ModelPackage.ComputeSha256(File.ReadAllBytes(Path.Combine(Target, ModelPackage.OnnxFileName)));
        Assert.NotEqual(oldSha, newSha);
        foreach (var scan in new[] { atTheSwap!, ModelCatalog.Scan(models) })
        {
            var found = Assert.Single(scan);
            Assert.Equal(Target, found.Directory);
            Assert.Equal(newSha, found.Manifest.Onnx.Sha256);
        }
    }

    [Fact]
    public void TryExchange_TwoDirectories_SwapsThem()
    {
        var a = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;
        var b = Directory.CreateDirectory(Path.Combine(_root, "b")).FullName;
        File.WriteAllText(Path.Combine(a, "in-a"), "a");
        File.WriteAllText(Path.Combine(b, "in-b"), "b");

        var swapped = LinuxFileSystem.TryExchange(a, b);

        Assert.Equal(OperatingSystem.IsLinux(), swapped);
        Assert.Equal(swapped ? "in-b" : "in-a", Path.GetFileName(Assert.Single(Directory.GetFiles(a))));
        Assert.Equal(swapped ? "in-a" : "in-b", Path.GetFileName(Assert.Single(Directory.GetFiles(b))));
    }

    [Fact]
    public void TryExchange_AMissingPath_ThrowsWithTheNativeMessage()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var a = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;

        var thrown = Assert.Throws<NativeFileSystemException>(() => LinuxFileSystem.TryExchange(a, Path.Combine(_root, "missing")));

        Assert.Equal(LinuxFileSystem.ENOENT, thrown.Errno);
        Assert.Contains("No such file or directory", thrown.Message, StringComparison.Ordinal);
        Assert.True(Directory.Exists(a));
    }

    private bool Exchange(string staging, string target)
    {
        var swapped = LinuxFileSystem.TryExchange(staging, target);
        Assert.True(swapped, $"no swap of {staging} and {target} on this file system");
        _swaps++;
        return swapped;
    }

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>A package whose model.json is the SHA-256 of its model.onnx; <paramref name="extra"/> names more files.</summary>
    private static int WritePackage(string directory, string version, params string[] extra)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "model.onnx"), version + " onnx");
        File.WriteAllText(Path.Combine(directory, "MODEL_CARD.md"), version + " card");
        foreach (var name in extra)
        {
            File.WriteAllText(Path.Combine(directory, name), version + " " + name);
        }

        File.WriteAllText(Path.Combine(directory, "model.json"), Sha(version + " onnx"));
        return 0;
    }

    private sealed record Reads(int Writes, int Checked, int Mixtures, int Errors, int Versions);

    private Reads ReadWhileRewriting(Func<string, string, bool> exchange)
    {
        StagedPackage.Write(Target, dir => WritePackage(dir, "v0"), exchange);
        var done = 0;
        var (checkedReads, mixtures, errors) = (0, 0, 0);
        var versions = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Thread(() =>
        {
            while (Volatile.Read(ref done) == 0)
            {
                try
                {
                    var before = File.ReadAllText(Path.Combine(Target, "model.json"));
                    var onnx = File.ReadAllText(Path.Combine(Target, "model.onnx"));
                    var after = File.ReadAllText(Path.Combine(Target, "model.json"));
                    if (before == after)
                    {
                        versions.Add(before);
                        if (Sha(onnx) != before)
                        {
                            mixtures++;
                        }

                        Volatile.Write(ref checkedReads, checkedReads + 1);
                    }
                }
                catch (IOException)
                {
                    errors++;
                }
            }
        });
        reader.Start();
        var writes = 0;
        try
        {
            // Until the reader has checked enough while the package changed under it (bounded, should the reader starve).
            while (writes < 50 || (Volatile.Read(ref checkedReads) < 500 && writes < 5000))
            {
                writes++;
                StagedPackage.Write(Target, dir => WritePackage(dir, "v" + writes, "evaluation.html", "evaluation.json"), exchange);
            }
        }
        finally
        {
            Volatile.Write(ref done, 1);
            reader.Join();
        }

        return new Reads(writes, checkedReads, mixtures, errors, versions.Count);
    }

    // A run killed outright leaves its hidden staging directory; nothing ever removed it, so they piled up beside --out.
    [Fact]
    public void Write_StaleStagingBesideTheTarget_IsRemovedAndAYoungOneAndOtherDirectoriesAreKept()
    {
        var parent = Path.GetDirectoryName(Target)!;
        var stale = Directory.CreateDirectory(Path.Combine(parent, ".0.9.0.staging-aaaa")).FullName;
        File.WriteAllText(Path.Combine(stale, "model.onnx"), "half");
        Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow - StagedPackage.StaleAfter - TimeSpan.FromHours(1));
        var young = Directory.CreateDirectory(Path.Combine(parent, ".0.9.1.staging-bbbb")).FullName;
        var other = Directory.CreateDirectory(Path.Combine(parent, ".cache")).FullName;
        Directory.SetLastWriteTimeUtc(other, DateTime.UtcNow - TimeSpan.FromDays(30));

        StagedPackage.Write(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.json"), "{}");
            return 0;
        });

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(young));
        Assert.True(Directory.Exists(other));
        Assert.True(File.Exists(Path.Combine(Target, "model.json")));
    }
}
