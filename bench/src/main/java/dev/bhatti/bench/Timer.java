package dev.bhatti.bench;

/** Times one call. */
final class Timer {
    interface Call { void run() throws Exception; }

    private Timer() {}

    static long time(Call c) throws Exception {
        long t0 = System.nanoTime();
        c.run();
        return System.nanoTime() - t0;
    }
}
