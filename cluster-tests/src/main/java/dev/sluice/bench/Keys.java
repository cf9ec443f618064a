package dev.sluice.bench;

import java.util.concurrent.ThreadLocalRandom;

/** Which bucket each call goes to: uniform over N, Zipf over N, or one hot key. */
interface Keys {

    long next();

    static Keys uniform(int n) {
        return () -> ThreadLocalRandom.current().nextInt(n);
    }

    static Keys hot() {
        return () -> 0;
    }

    /** Zipf with exponent {@code s} over {@code n} keys, by inverting a precomputed cumulative table. */
    static Keys zipf(int n, double s) {
        double[] cumulative = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, s);
            cumulative[i] = sum;
        }
        double total = sum;
        return () -> {
            double u = ThreadLocalRandom.current().nextDouble() * total;
            int lo = 0;
            int hi = n - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cumulative[mid] < u) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        };
    }

    static Keys parse(String spec, int n) {
        return switch (spec) {
            case "uniform" -> uniform(n);
            case "zipf" -> zipf(n, 1.0);
            case "hot" -> hot();
            default -> throw new IllegalArgumentException("keys: uniform, zipf or hot, not " + spec);
        };
    }
}
