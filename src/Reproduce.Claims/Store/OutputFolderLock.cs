using Reproduce.Training.Checkpoints;

namespace Reproduce.Claims.Store;

/// <summary>
/// One writer per output folder. Every command that writes into an output folder (run, report, merge) holds an
/// exclusive advisory lock on &lt;folder&gt;/.lock while it works: .NET takes it with flock(LOCK_EX | LOCK_NB) for
/// FileShare.None. The kernel drops the lock when the process ends, however it ends (SIGKILL included), so a killed run
/// never leaves a stale lock behind and the next run simply takes it; a second process is refused at once, naming the
/// folder and the holder. The holder (process id, command line, start) is recorded in &lt;folder&gt;/.lock.holder for
/// that message only: it may outlive a killed holder, and only the lock decides. The .lock file itself is never
/// deleted (unlinking a lock file lets two processes hold locks on two different files). Setting
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns .NET's file locking, and with it this guard, off.
/// </summary>
public sealed class OutputFolderLock : IDisposable
{
    public const string FileName = ".lock";
    public const string HolderFileName = ".lock.holder";
    private readonly FileStream stream;

    private OutputFolderLock(string folder, FileStream stream)
    {
        Folder = folder;
        this.stream = stream;
    }

    public string Folder { get; }

    /// <summary>Takes the folder's lock (creating the folder), or throws <see cref="OutputFolderInUseException"/>.</summary>
    public static OutputFolderLock Acquire(string folder)
    {
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (e.GetType() == typeof(IOException))
        {
            // A sharing violation: another open file description holds the lock.
            throw new OutputFolderInUseException(folder, ReadHolder(folder), e);
        }
        try
        {
            var args = Environment.GetCommandLineArgs().Skip(1);
            AtomicFile.WriteAllText(Path.Combine(folder, HolderFileName),
                $"pid {Environment.ProcessId}, `reproduce {string.Join(' ', args)}`, since {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC\n");
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new OutputFolderLock(folder, stream);
    }

    private static string? ReadHolder(string folder)
    {
        try { return File.ReadAllText(Path.Combine(folder, HolderFileName)).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public void Dispose()
    {
        // The holder note first, while the lock still keeps the next holder from writing its own.
        try { File.Delete(Path.Combine(Folder, HolderFileName)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        stream.Dispose();
    }
}

/// <summary>Another process holds the output folder's lock (<see cref="OutputFolderLock"/>).</summary>
public sealed class OutputFolderInUseException(string folder, string? holder, Exception inner) : Exception(
    $"Output folder {folder} is in use by another reproduce process ({holder ?? "holder not recorded"}). Two processes writing one " +
    $"folder would mix their results and reports: wait for it to finish, or choose another --output. A killed process " +
    $"holds nothing: the kernel releases its lock ({Path.Combine(folder, OutputFolderLock.FileName)}) when it ends.", inner)
{
    public string Folder { get; } = folder;
    public string? Holder { get; } = holder;
}
