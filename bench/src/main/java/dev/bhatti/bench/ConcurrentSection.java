package dev.bhatti.bench;

import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicReference;

/** K execs of {@code true} sent at once via HTTP; timed until the last one returns. Floor: one exec alone. */
final class ConcurrentSection implements Section {
    static final String SECTION = "concurrent exec";

    @Override public String title() { return "concurrent execs (wall clock until all K return)"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        for (int k : o.concurrency) {
            Samples s = r.add(SECTION, k + " concurrent exec true (HTTP)", ExecSection.http("true"));
            for (int rep = 0; rep < o.nConcurrent; rep++) s.add(Timer.time(() -> burst(ctx, k)));
        }
        r.print(SECTION);
    }

    private static void burst(Context ctx, int k) throws Exception {
        var failure = new AtomicReference<Exception>();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < k; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    ctx.api().execTrue(ctx.mainId);
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw failure.get();
    }
}
