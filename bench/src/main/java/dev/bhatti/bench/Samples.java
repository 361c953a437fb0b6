package dev.bhatti.bench;

import java.util.ArrayList;
import java.util.List;

/** Durations of one scenario, in nanoseconds, with nearest-rank percentiles in milliseconds. */
public final class Samples {
    private final List<Long> nanos = new ArrayList<>();

    public synchronized void add(long ns) { nanos.add(ns); }

    public synchronized int n() { return nanos.size(); }

    /** Nearest-rank percentile in ms (with N = 5, p95 and p99 are the maximum); NaN when empty. */
    public synchronized double p(double pct) {
        long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        if (s.length == 0) return Double.NaN;
        int rank = (int) Math.ceil(pct / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))] / 1_000_000.0;
    }

    public double p50() { return p(50); }
    public double p95() { return p(95); }
    public double p99() { return p(99); }
    public double min() { return p(0); }
    public double max() { return p(100); }
}
