package dev.sluice.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One measurement of one target: closed loop (a fixed number of calls outstanding, each answer
 * sending the next) or open loop (calls sent at a fixed rate whatever happens, latency counted
 * from when each call was due, so queueing shows).
 */
final class Run {

    record Result(String target, String mode, String keys, double seconds, long calls, long decisions, long allowed,
                  long errors, double decisionsPerSecond, double p50Micros, double p99Micros, double p999Micros,
                  double maxMicros, double targetCpuSeconds, double generatorCpuSeconds, double offeredPerSecond,
                  double stolenShare) {

        /** The same result under another target name (a row of the several-node phase). */
        Result named(String name) {
            return new Result(name, mode, keys, seconds, calls, decisions, allowed, errors, decisionsPerSecond, p50Micros, p99Micros,
                    p999Micros, maxMicros, targetCpuSeconds, generatorCpuSeconds, offeredPerSecond, stolenShare);
        }

        /** This result as the {@code w}th measured window of its run: mode {@code closed(64)#2}. */
        Result window(int w) {
            return new Result(target, mode + "#" + w, keys, seconds, calls, decisions, allowed, errors, decisionsPerSecond,
                    p50Micros, p99Micros, p999Micros, maxMicros, targetCpuSeconds, generatorCpuSeconds, offeredPerSecond, stolenShare);
        }

        double targetCpuMicrosPerDecision() {
            return decisions == 0 ? Double.NaN : targetCpuSeconds * 1e6 / decisions;
        }

        double generatorCpuMicrosPerDecision() {
            return decisions == 0 ? Double.NaN : generatorCpuSeconds * 1e6 / decisions;
        }
    }

    private Run() {
    }

    static Result closedLoop(Target target, Keys keys, String keysName, int outstanding, double warmupSeconds, double seconds)
            throws InterruptedException {
        return measure(target, "closed(" + outstanding + ")", keysName, Double.NaN, warmupSeconds, seconds,
                (secs, t) -> loop(target, keys, outstanding, secs, t));
    }

    /** What one drive of the load counts. */
    private record Tally(Recorder latencies, LongAdder calls, LongAdder allowed, LongAdder errors) {
        Tally() {
            this(new Recorder(3), new LongAdder(), new LongAdder(), new LongAdder());
        }

        void answered(long startNanos, Integer n, Throwable e) {
            latencies.recordValue(Math.max(1, (System.nanoTime() - startNanos) / 1000));
            calls.increment();
            if (e != null) {
                errors.increment();
            } else {
                allowed.add(n);
            }
        }
    }

    /** A way of driving load for a number of seconds. */
    private interface Drive {
        void run(double seconds, Tally tally) throws InterruptedException;
    }

    /** Warms up, then drives the load again and measures it, with the CPU the target and the generator spent. */
    private static Result measure(Target target, String mode, String keysName, double offered, double warmupSeconds, double seconds,
                                  Drive drive) throws InterruptedException {
        drive.run(warmupSeconds, new Tally());
        Tally tally = new Tally();
        long generator = ProcessHandle.current().pid();
        double cpu0 = Cpu.seconds(target.pids());
        double gen0 = Cpu.seconds(generator);
        double[] machine0 = Cpu.machine();
        long t0 = System.nanoTime();
        drive.run(seconds, tally);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        double cpu = Cpu.seconds(target.pids()) - cpu0;
        double gen = Cpu.seconds(generator) - gen0;
        double[] machine = Cpu.machine();
        double stolen = (machine[1] - machine0[1]) / (machine[0] - machine0[0]);
        return result(target, mode, keysName, elapsed, tally.calls().sum(), tally.allowed().sum(), tally.errors().sum(),
                tally.latencies().getIntervalHistogram(), cpu, gen, offered, stolen);
    }

    /**
     * Keeps {@code outstanding} calls in flight: each answer sends the next call from the thread
     * that delivered it, so the generator adds no thread hand-off of its own per call.
     */
    private static void loop(Target target, Keys keys, int outstanding, double seconds, Tally tally) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(outstanding);
        for (int i = 0; i < outstanding; i++) {
            chain(target, keys, end, tally, finished);
        }
        finished.await();
    }

    /**
     * One of the outstanding calls, sending its successor when it is answered. An answer that is
     * already there when the call returns (the client's denial cache answers at once) is counted
     * in a loop here rather than by a callback that would call this again, so a run of local
     * answers cannot grow the stack.
     */
    private static void chain(Target target, Keys keys, long end, Tally tally, java.util.concurrent.CountDownLatch finished) {
        while (true) {
            long start = System.nanoTime();
            if (start >= end) {
                finished.countDown();
                return;
            }
            CompletableFuture<Integer> call;
            try {
                call = target.call(keys.next());
            } catch (RuntimeException e) {
                call = CompletableFuture.failedFuture(e);
            }
            if (!call.isDone()) {
                call.whenComplete((n, e) -> {
                    tally.answered(start, n, e);
                    chain(target, keys, end, tally, finished);
                });
                return;
            }
            Integer n = null;
            Throwable error = null;
            try {
                n = call.join();
            } catch (RuntimeException e) {
                error = e;
            }
            tally.answered(start, n, error);
        }
    }

    /** The most open-loop calls outstanding at once; past it, calls due are counted as errors, not sent. */
    static final int MAX_PENDING = 20_000;

    private static final IllegalStateException TOO_MANY_PENDING =
            new IllegalStateException("not sent: " + MAX_PENDING + " calls already outstanding");

    static Result openLoop(Target target, Keys keys, String keysName, double callsPerSecond, double warmupSeconds, double seconds)
            throws InterruptedException {
        return measure(target, "open(" + Math.round(callsPerSecond * target.decisionsPerCall()) + "/s)", keysName,
                callsPerSecond * target.decisionsPerCall(), warmupSeconds, seconds,
                (secs, t) -> paced(target, keys, callsPerSecond, secs, t));
    }

    /**
     * Sends calls when they are due. A single pacing thread sleeps until the next call is due,
     * then issues every call whose time has come; latency is measured from that due time, not
     * from when the generator got round to it (no coordinated omission). It never spins: at tens
     * of thousands of calls a second a spinning pacer keeps one of the machine's cores busy and
     * starves the target it measures. A call that comes due while {@link #MAX_PENDING} are
     * outstanding is not sent: it counts as an error at once, its latency how late it already is.
     * Without that bound a target that falls behind makes the generator hold ever more calls, until
     * it falls behind itself (a run here had it 33 s late and failing the next target's check).
     */
    private static void paced(Target target, Keys keys, double callsPerSecond, double seconds, Tally tally)
            throws InterruptedException {
        long interval = (long) (1e9 / callsPerSecond);
        long start = System.nanoTime();
        long total = (long) (seconds * callsPerSecond);
        AtomicLong pending = new AtomicLong();
        for (long i = 0; i < total; ) {
            long now = System.nanoTime();
            long next = start + i * interval;
            if (next > now) {
                java.util.concurrent.locks.LockSupport.parkNanos(next - now);
                continue;
            }
            for (long due = next; i < total && due <= now; due = start + ++i * interval) {
                long dueAt = due;
                if (pending.get() >= MAX_PENDING) {
                    tally.answered(dueAt, null, TOO_MANY_PENDING);
                    continue;
                }
                pending.incrementAndGet();
                target.call(keys.next()).whenComplete((n, e) -> {
                    tally.answered(dueAt, n, e);
                    pending.decrementAndGet();
                });
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (pending.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    private static Result result(Target target, String mode, String keys, double elapsed, long calls, long allowed, long errors,
                                 Histogram h, double cpu, double gen, double offered, double stolen) {
        long decisions = calls * target.decisionsPerCall();
        return new Result(target.name(), mode, keys, elapsed, calls, decisions, allowed, errors, decisions / elapsed,
                h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(), cpu, gen,
                offered, stolen);
    }

}
