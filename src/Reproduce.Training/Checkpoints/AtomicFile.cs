using System.Runtime.InteropServices;

namespace Reproduce.Training.Checkpoints;

/// <summary>
/// Write-to-temporary-then-rename, so readers see the old file or the new one, never half of one, however the writer
/// dies (SIGKILL included). The temporary file is fsynced before the rename and, on Linux, the folder after it, so the
/// rename also survives a power loss. A temporary file left by a killed writer of the same target (its name carries
/// the writer's process id, no longer running) is deleted by the next write of that target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        DeleteStaleTemporaries(folder, Path.GetFileName(full));
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            TestPause.At($"rename:{Path.GetFileName(full)}");
            File.Move(temp, full, overwrite: true);
            SyncFolder(folder);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>Temporaries ".name.pid.guid.tmp" of this target whose writer process is gone.</summary>
    private static void DeleteStaleTemporaries(string folder, string name)
    {
        foreach (var file in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
        {
            var parts = Path.GetFileName(file)[(name.Length + 2)..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], out int pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(file); }
            catch (IOException) { } // another writer cleaned it first
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>fsync of the folder, so the rename itself is on disk (POSIX: a rename is durable only then).</summary>
    private static void SyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = Open(folder, 0 /* O_RDONLY: enough to fsync a folder */);
        if (fd < 0) return;
        try { _ = FSync(fd); }
        finally { _ = Close(fd); }
    }

    [DllImport("libc.so.6", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FSync(int fd);

    [DllImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
