package dev.sluice.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** CPU time of processes from /proc (Linux): user plus system, in seconds; and the machine's stolen time. */
final class Cpu {

    /** Linux reports /proc times in clock ticks of 1/100 s on every mainstream configuration. */
    private static final double TICKS_PER_SECOND = 100.0;

    private Cpu() {
    }

    static double seconds(List<Long> pids) {
        double total = 0;
        for (long pid : pids) {
            total += seconds(pid);
        }
        return total;
    }

    /**
     * The machine's CPU time so far and the part of it the hypervisor gave to others ("steal", the
     * eighth figure of /proc/stat's {@code cpu} line), in seconds summed over cores: a virtual
     * machine's slow spells show here, not in any process's own time.
     */
    static double[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i <= 8 && i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            return new double[] {total / TICKS_PER_SECOND, f.length > 8 ? Long.parseLong(f[8]) / TICKS_PER_SECOND : 0};
        } catch (IOException | RuntimeException e) {
            return new double[] {Double.NaN, Double.NaN};
        }
    }

    static double seconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // Fields after the command name, which is in parentheses and may hold spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long utime = Long.parseLong(f[11]);
            long stime = Long.parseLong(f[12]);
            return (utime + stime) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
