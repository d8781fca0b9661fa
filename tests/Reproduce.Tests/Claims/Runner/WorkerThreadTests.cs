using NUnit.Framework;
using Reproduce.Claims.Runner;

namespace Reproduce.Tests.Claims.Runner;

/// <summary>
/// The executor's workers (<see cref="RunExecutor.RunOnWorkers{T}"/>): every run once, handed out in order, on exactly
/// as many long-lived threads as workers (glibc binds a malloc arena to each thread that allocates, and each arena
/// keeps its high-water mark, so resident memory grows with the number of threads that ever carried a run).
/// </summary>
public class WorkerThreadTests
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void EveryRunOnceInOrderOnExactlyTheWorkersThreads(int workers)
    {
        var runs = Enumerable.Range(0, 200).ToList();
        var started = new System.Collections.Concurrent.ConcurrentQueue<int>();
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        RunExecutor.RunOnWorkers(runs, workers, run =>
        {
            started.Enqueue(run);
            threads.AddOrUpdate(Environment.CurrentManagedThreadId, 1, (_, n) => n + 1);
            // Runs of unequal length, some blocking: a thread pool would inject threads and move work between them.
            if (run % 7 == 0) Thread.Sleep(2);
        });
        Assert.That(started.Order(), Is.EqualTo(runs), "every run exactly once");
        Assert.That(threads.Keys, Has.Count.EqualTo(workers), "one long-lived thread per worker");
        Assert.That(threads.Keys, Does.Not.Contain(Environment.CurrentManagedThreadId), "not on the calling thread");
        if (workers == 1) Assert.That(started, Is.EqualTo(runs), "one worker takes the runs in the order given");
    }

    [Test]
    public void AnExceptionInARunStopsTheWorkersAndReachesTheCaller()
    {
        int ran = 0;
        var e = Assert.Throws<InvalidOperationException>(() => RunExecutor.RunOnWorkers(Enumerable.Range(0, 1000).ToList(), 2, run =>
        {
            Interlocked.Increment(ref ran);
            if (run == 10) throw new InvalidOperationException("run 10 failed");
            Thread.Sleep(1);
        }));
        Assert.That(e!.Message, Is.EqualTo("run 10 failed"));
        Assert.That(ran, Is.LessThan(1000), "the remaining runs are not handed out");
    }

    [Test]
    public void CancellationStopsHandingOutRunsAndThrows()
    {
        using var cancel = new CancellationTokenSource();
        int ran = 0;
        Assert.Throws<OperationCanceledException>(() => RunExecutor.RunOnWorkers(Enumerable.Range(0, 1000).ToList(), 2, run =>
        {
            if (Interlocked.Increment(ref ran) == 5) cancel.Cancel();
        }, cancel.Token));
        Assert.That(ran, Is.LessThan(1000));
    }
}
